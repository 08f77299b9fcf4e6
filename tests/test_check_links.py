"""The staff link checker, against a web server on loopback (no internet in tests)."""
from __future__ import annotations

import socket

import pytest
from aiohttp import web

from bot.councils import check_links as cl
from bot.councils.directory import parse_directory


def directory(base: str):
    link = lambda path: {"url": base + path, "source": base + path, "checked": "2026-12-06"}  # noqa: E731
    council = {"name": "Testshire County Council", "type": "county", "region": "East Midlands",
               "website": base + "/", "source": "https://example.org/list", "checked": "2026-12-06",
               "links": {"kinship_local_offer": link("/offer"), "complaints": link("/old-complaints"),
                         "childrens_services_contact": link("/gone")}}
    other = dict(council, name="Otherborough Council", links={"complaints": link("/soft-404")})
    return parse_directory({"councils": [council, other]})


async def offer(request):
    return web.Response(text="<html><title>Kinship local offer</title></html>", content_type="text/html")


async def moved(request):
    raise web.HTTPMovedPermanently("/complaints-about-childrens-services")


async def soft_404(request):
    return web.Response(text="<title>Page not found | Otherborough</title>", content_type="text/html")


async def gone(request):
    raise web.HTTPNotFound()


async def no_head(request):
    if request.method == "HEAD":
        raise web.HTTPMethodNotAllowed("HEAD", ["GET"])
    return web.Response(text="<title>Home</title>", content_type="text/html")


@pytest.fixture
async def site():
    app = web.Application()
    app.router.add_get("/", no_head, allow_head=False)
    app.router.add_route("HEAD", "/", no_head)
    app.router.add_get("/offer", offer)
    app.router.add_get("/old-complaints", moved)
    app.router.add_get("/complaints-about-childrens-services", offer)
    app.router.add_get("/soft-404", soft_404)
    app.router.add_get("/gone", gone)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_each_link_gets_the_right_verdict(site):
    links = cl.links_to_check(directory(site))
    verdicts = {(v.council, v.kind): v for v in await cl.check(links, timeout_s=5)}
    first = "Testshire County Council"
    assert verdicts[(first, "website")].verdict == "ok"  # a server that refuses HEAD still answers GET
    assert verdicts[(first, "kinship_local_offer")].verdict == "ok"
    assert verdicts[(first, "complaints")].verdict == "moved"
    assert verdicts[(first, "complaints")].final_url == site + "/complaints-about-childrens-services"
    assert verdicts[(first, "childrens_services_contact")].verdict == "dead"
    assert verdicts[(first, "childrens_services_contact")].status == 404
    assert verdicts[("Otherborough Council", "complaints")].verdict == "dead"  # a "soft 404"
    report = cl.summary(list(verdicts.values()))
    assert report.splitlines()[0] == "DEAD (2)"
    assert report.splitlines()[-1] == "6 links checked: 3 ok, 1 moved, 2 dead, 0 error"


async def test_a_server_that_does_not_answer_is_an_error_not_dead():
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    link = cl.LinkToCheck("Testshire County Council", "complaints", f"http://127.0.0.1:{port}/x")
    [verdict] = await cl.check([link], timeout_s=5)
    assert verdict.verdict == "error"
    assert verdict.status is None
    assert "Connect" in verdict.detail


def test_choices_narrow_what_is_checked():
    links = cl.links_to_check(directory("https://testshire.gov.uk"), kinds=("complaints",),
                              councils=("otherborough council",))
    assert links == [cl.LinkToCheck("Otherborough Council", "complaints", "https://testshire.gov.uk/soft-404")]


@pytest.mark.parametrize("first, second, same", [
    ("https://www.leeds.gov.uk/complaints", "https://leeds.gov.uk/complaints/", True),
    ("http://leeds.gov.uk/a", "https://leeds.gov.uk/a", True),
    ("https://leeds.gov.uk/a", "https://leeds.gov.uk/b", False),
    ("https://leeds.gov.uk/a?page=1", "https://leeds.gov.uk/a?page=2", False),
])
def test_only_trivial_changes_count_as_the_same_address(first, second, same):
    assert cl.same_address(first, second) is same


def test_the_command_line_refuses_choices_that_match_nothing(capsys):
    assert cl.main(["--council", "Nowhere Council"]) == 2
    assert "No links match" in capsys.readouterr().err
