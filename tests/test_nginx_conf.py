"""deploy/nginx.conf, the production front (security review, issue 16): request and connection limits per
address on /socket.io/ and /console/login, no access log on the internal load balancers (the Rasa token
travels in their query strings), and no paths or query strings in the public access log. Read as text,
and checked by `nginx -t` when nginx is installed."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import List, Tuple

import pytest

CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"


def strip_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def blocks(text: str, head: str) -> List[Tuple[str, str]]:
    """(head as written, body) of every `head ... {body}` block, nested braces included."""
    found = []
    for match in re.finditer(head + r"[^{;]*\{", text):
        depth, i = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        found.append((match.group(0), text[match.end():i - 1]))
    return found


def directives(body: str, name: str) -> List[str]:
    return [m.group(1).strip() for m in re.finditer(rf"(?:^|[;{{}}\s]){name}\s+([^;]*);", body)]


@pytest.fixture(scope="module")
def conf() -> str:
    return strip_comments(CONF.read_text())


def servers(conf: str) -> List[str]:
    return [body for _, body in blocks(conf, r"(?<![\w_])server\s*")
            if directives(body, "listen")]  # server blocks, not upstream members


def public_server(conf: str) -> str:
    [public] = [body for body in servers(conf) if any("443" in v for v in directives(body, "listen"))]
    return public


def internal_servers(conf: str) -> List[str]:
    internal = [body for body in servers(conf) if all(v.startswith("127.0.0.1:") for v in directives(body, "listen"))]
    assert len(internal) == 3  # Rasa, action servers, gateways
    return internal


def location(server: str, path: str) -> str:
    matches = [body for head, body in blocks(server, r"location\s+") if head.split()[-2] == path]
    assert matches, f"no location {path}"
    return matches[0]


def zones(conf: str, kind: str) -> dict:
    """name -> (key, rate or None) of limit_req_zone / limit_conn_zone."""
    found = {}
    for value in directives(conf, kind):
        key, *rest = value.split()
        options = dict(part.split("=", 1) for part in rest if "=" in part)
        found[options["zone"].split(":")[0]] = (key, options.get("rate"))
    return found


def test_socket_io_is_limited_per_address_in_requests_and_connections(conf):
    requests, connections = zones(conf, "limit_req_zone"), zones(conf, "limit_conn_zone")
    socket_io = location(public_server(conf), "/socket.io/")
    [req] = directives(socket_io, "limit_req")
    [conn] = directives(socket_io, "limit_conn")
    req_zone = re.search(r"zone=(\w+)", req).group(1)
    conn_zone = conn.split()[0]
    assert requests[req_zone][0] == "$binary_remote_addr" and requests[req_zone][1].endswith("r/s")
    assert connections[conn_zone][0] == "$binary_remote_addr"
    assert 1 <= int(conn.split()[1]) <= 50  # sockets one address may hold open at once
    assert "burst=" in req  # a page's handshake and first polls come together


def test_console_login_is_limited_per_address_more_tightly(conf):
    requests = zones(conf, "limit_req_zone")
    login = location(public_server(conf), "/console/login")
    [req] = directives(login, "limit_req")
    zone = re.search(r"zone=(\w+)", req).group(1)
    assert requests[zone][0] == "$binary_remote_addr" and requests[zone][1].endswith("r/m")
    assert int(requests[zone][1][:-3]) <= 30  # at most 30 a minute from one address
    assert directives(login, "proxy_pass") == ["http://family_advice_gateways"]
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in directives(login, "proxy_set_header")


def test_refusals_are_429(conf):
    assert directives(conf, "limit_req_status") == ["429"]
    assert directives(conf, "limit_conn_status") == ["429"]


def test_internal_load_balancers_keep_no_access_log(conf):
    for server in internal_servers(conf):
        assert directives(server, "access_log") == ["off"], server


def test_the_public_access_log_has_no_paths_or_query_strings(conf):
    [fmt] = [v for v in directives(conf, "log_format") if v.split()[0] == "family_advice_public"]
    for leak in ("$request ", "$request_uri", "$uri", "$args", "$query_string", "$arg_", "$document_uri",
                 "$http_referer", "$request_body", "$request\"", "$request'"):
        assert leak not in fmt + " ", leak
    public_logs = [v for v in directives(conf, "access_log") if v != "off"]
    assert public_logs and all(v.split()[1] == "family_advice_public" for v in public_logs)
    for server in servers(conf):  # nothing logs with nginx's default (combined) format
        for value in directives(server, "access_log"):
            assert value == "off" or value.split()[1:2] == ["family_advice_public"], value


@pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                    reason="nginx is not installed (scripts/setup_prod.sh installs it)")
@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed for a throwaway certificate")
def test_nginx_accepts_the_configuration(tmp_path):
    """`nginx -t` on deploy/nginx.conf as installed (an http-level include), with a throwaway
    certificate and log paths moved into a temporary folder."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=chat.example.org", "-keyout", str(tmp_path / "privkey.pem"),
                    "-out", str(tmp_path / "fullchain.pem")], check=True, capture_output=True)
    text = (CONF.read_text().replace("/etc/ssl/family-advice/", f"{tmp_path}/")
            .replace("/var/log/nginx/", f"{tmp_path}/"))
    (tmp_path / "family-advice.conf").write_text(text)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    access_log off;\n    include {tmp_path}/family-advice.conf;\n}}\n")
    result = subprocess.run([nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path),
                             "-e", str(tmp_path / "error.log")], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
