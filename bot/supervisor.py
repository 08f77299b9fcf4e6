"""Child processes that never outlive the process that started them.

Used by `make run` (bot/run_local.py): the action server, Rasa and the gateway are started here and
must all be gone when it stops, however it stops.

- Each child runs in its own process group (a Ctrl-C in the terminal reaches only the supervisor,
  which then stops the children in order) and asks Linux to kill it if the supervisor dies
  (`prctl(PR_SET_PDEATHSIG, SIGKILL)`), so even `kill -9` of the supervisor leaves nothing behind.
- `stop()` sends SIGTERM to every group, waits up to `grace` seconds, then SIGKILL. It can be called
  any number of times, also from a signal handler while a `stop()` is under way.
- Signals: the first SIGINT or SIGTERM raises KeyboardInterrupt in the main thread (the caller stops
  and exits); a further one, while stopping, does not abandon the stop: it kills the children at once.
- A pid file records the children's process groups and command lines; `clear_leftovers` stops what
  an earlier supervisor left (for example after a power cut of the terminal), checking each pid's
  command line so a recycled pid is never touched.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Runs in the child between fork and exec: die with the supervisor."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except OSError:  # not Linux: the pid file and stop() still apply
        return
    if os.getppid() != parent:  # the supervisor died before prctl took effect
        os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cmdline(pid: int) -> List[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


class Supervisor:
    def __init__(self, pid_file: Optional[Path] = None, grace: float = 15.0) -> None:
        self.pid_file = pid_file
        self.grace = grace
        self.procs: Dict[str, subprocess.Popen] = {}
        self.stopping = False

    # --- starting --------------------------------------------------------------------------------

    def start(self, name: str, cmd: Sequence[str], **popen: object) -> subprocess.Popen:
        parent = os.getpid()
        proc = subprocess.Popen(list(cmd), start_new_session=True,
                                preexec_fn=lambda: die_with_parent(parent), **popen)  # noqa: PLW1509
        self.procs[name] = proc
        self._write_pid_file()
        return proc

    def exited(self) -> Optional[str]:
        """The name of a child that has exited, if any."""
        return next((name for name, proc in self.procs.items() if proc.poll() is not None), None)

    # --- stopping --------------------------------------------------------------------------------

    def stop(self) -> None:
        """SIGTERM every child's group, wait up to `grace` seconds, then SIGKILL what is left."""
        self.stopping = True
        for proc in list(self.procs.values()):
            if proc.poll() is None:
                _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for proc in list(self.procs.values()):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
        self.kill_now()  # anything else left in the groups (a child's own children)
        self._remove_pid_file()

    def kill_now(self) -> None:
        for proc in list(self.procs.values()):
            _signal_group(proc.pid, signal.SIGKILL)

    def install_signal_handlers(self) -> None:
        """First SIGINT/SIGTERM: KeyboardInterrupt in the main thread. Later ones: kill at once."""
        def on_signal(signum, _frame):
            if self.stopping:
                self.kill_now()
                return
            self.stopping = True
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, on_signal)  # also when started in the background, where SIGINT is ignored
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGHUP, on_signal)  # the terminal closed

    # --- the pid file ----------------------------------------------------------------------------

    def _write_pid_file(self) -> None:
        if self.pid_file is not None:
            write_pid_file(self.pid_file, [{"name": n, "pid": p.pid, "cmd": [str(a) for a in p.args]}
                                           for n, p in self.procs.items()])

    def _remove_pid_file(self) -> None:
        if self.pid_file is not None:
            try:
                self.pid_file.unlink()
            except FileNotFoundError:
                pass


def write_pid_file(pid_file: Path, children: List[dict]) -> None:
    """Record this supervisor and its children ({name, pid, cmd}) for `clear_leftovers`."""
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = pid_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"supervisor": os.getpid(), "children": children}))
    tmp.replace(pid_file)


def clear_leftovers(pid_file: Path, grace: float = 10.0, owner: str = "run_local") -> List[str]:
    """Stop the children an earlier supervisor recorded in `pid_file` if they are still running
    (and are still the same programs), and say what was stopped. RuntimeError if that supervisor
    (a process whose command line contains `owner`) is itself still running."""
    try:
        recorded = json.loads(pid_file.read_text())
    except (OSError, ValueError):
        return []
    supervisor = int(recorded.get("supervisor", 0) or 0)
    if supervisor and supervisor != os.getpid() and _alive(supervisor):
        if any(owner in part for part in _cmdline(supervisor)):
            raise RuntimeError(f"it is already running (process {supervisor}); "
                               f"stop it with Ctrl-C in its terminal or: kill {supervisor}")
    stopped = []
    for row in recorded.get("children", []):
        pid = int(row.get("pid", 0) or 0)
        if pid > 0 and _alive(pid) and _cmdline(pid) == list(row.get("cmd", [])):
            _signal_group(pid, signal.SIGTERM)
            stopped.append(f"{row.get('name')} (process {pid})")
    deadline = time.monotonic() + grace
    for row in recorded.get("children", []):
        pid = int(row.get("pid", 0) or 0)
        while pid > 0 and _alive(pid) and _cmdline(pid) == list(row.get("cmd", [])) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid > 0 and _alive(pid) and _cmdline(pid) == list(row.get("cmd", [])):
            _signal_group(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return stopped


def _socket_links(proc_dir: Path) -> List[str]:
    links = []
    try:
        fds = list((proc_dir / "fd").iterdir())
    except OSError:  # gone, or not ours to see
        return links
    for fd in fds:
        try:
            link = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if link.startswith("socket:["):
            links.append(link)
    return links


def port_holder(port: int) -> Optional[str]:
    """Which process listens on a TCP port on this machine ("pid 123: rasa run ..."), from /proc."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    if not inodes:
        return None
    for proc_dir in Path("/proc").iterdir():
        if proc_dir.name.isdigit() and any(link[8:-1] in inodes for link in _socket_links(proc_dir)):
            return f"pid {proc_dir.name}: {' '.join(_cmdline(int(proc_dir.name)))[:200]}"
    return "another process (not visible to this user)"
