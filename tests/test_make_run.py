"""`make run` stops on Ctrl-C and on a closed terminal, with no process left behind.

Each test runs `make serve`, the last step of `make run` (the Procfile's web server and worker with beat,
under honcho), in a pseudo-terminal of its own, as a terminal would: make is the session leader and its
process group the foreground one. It serves on a free port from a throwaway VAR_DIR on the embedded
default (SQLite, file-system broker), so it needs no server and leaves the checkout's var/ alone. Every
process it starts inherits a marker in its environment; the test finds them all in /proc by that marker,
wherever they end up (in another process group or session, or reparented to init).
"""

import contextlib
import http.client
import io
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from payments.management.commands.seed_demo import Command as SeedDemo

ROOT = Path(__file__).resolve().parents[1]
STARTED_WITHIN = 90  # seconds: generous, for a loaded machine
STOPPED_WITHIN = 20  # seconds: honcho gives its processes 5 s after the first one stops, then kills them
# Settings that point away from the embedded default, and make's own variables from an enclosing `make test`.
NOT_PASSED_ON = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CACHE_URL", "DEBUG", "MAKEFLAGS", "MAKELEVEL"}
# Runs make as the leader of a new session with the pseudo-terminal as its controlling terminal.
SESSION_LEADER = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); os.execvp('make', ['make', *sys.argv[1:]])"
)

pytestmark = [
    pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the processes in Linux's /proc"),
    pytest.mark.skipif(
        not (ROOT / ".venv/bin/python").exists(), reason="`make serve` runs the .venv of `make install`"
    ),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes(marker):
    """The live processes with `marker` in their environment: {pid: command line}. A zombie has none."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:  # gone meanwhile, or another user's
            continue
        if marker in environ.split(b"\0"):
            found[int(pid)] = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
    return found


def answers_http(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/")
        connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return True


class Terminal:
    """A pseudo-terminal whose output a thread keeps reading, as a terminal window does."""

    def __init__(self):
        self.master, self.slave = pty.openpty()
        self.output = bytearray()
        self.closing = threading.Event()
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        while not self.closing.is_set():
            if select.select([self.master], [], [], 0.1)[0]:
                try:
                    data = os.read(self.master, 65536)
                except OSError:  # EIO: nothing has the terminal open any more
                    return
                if not data:
                    return
                self.output += data

    def text(self):
        return bytes(self.output).decode(errors="replace")

    def close(self):
        """Close the window: the terminal hangs up."""
        if self.master is not None:
            self.closing.set()
            self.reader.join()
            os.close(self.master)
            self.master = None


@pytest.fixture
def make_serve(tmp_path):
    """`make serve` on a free port in a terminal, up: the web answers HTTP and the worker says it is ready."""
    token = uuid.uuid4().hex
    marker = f"EWTP_MAKE_RUN_TEST={token}".encode()
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name not in NOT_PASSED_ON}
    env.update(VAR_DIR=str(tmp_path / "var"), EWTP_MAKE_RUN_TEST=token)
    terminal = Terminal()
    make = subprocess.Popen(
        [sys.executable, "-c", SESSION_LEADER, "--no-print-directory", "serve", "HOST=127.0.0.1", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdin=terminal.slave,
        stdout=terminal.slave,
        stderr=terminal.slave,
        start_new_session=True,
    )
    os.close(terminal.slave)
    try:
        deadline = time.monotonic() + STARTED_WITHIN
        while not (re.search(r"celery@\S+ ready\.", terminal.text()) and answers_http(port)):
            assert make.poll() is None, f"make serve ended early:\n{terminal.text()}"
            assert time.monotonic() < deadline, f"make serve not up after {STARTED_WITHIN} s:\n{terminal.text()}"
            time.sleep(0.2)
        running = processes(marker).values()
        assert any("runserver" in command for command in running), running
        assert any("celery" in command and "worker" in command for command in running), running
        yield make, terminal, marker
    finally:
        for pid in processes(marker):  # only when the test failed: leave nothing behind either way
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        make.wait(timeout=30)
        terminal.close()


def assert_all_stopped(make, terminal, marker):
    deadline = time.monotonic() + STOPPED_WITHIN
    while left := processes(marker):
        make.poll()  # reaps make once it ends, so that it does not linger as a zombie
        assert time.monotonic() < deadline, f"still running after {STOPPED_WITHIN} s: {left}\n{terminal.text()}"
        time.sleep(0.2)
    assert make.wait(timeout=5) != 0
    assert "Segmentation fault" not in terminal.text()


def test_ctrl_c_stops_everything(make_serve):
    make, terminal, marker = make_serve

    os.write(terminal.master, b"\x03")  # the terminal sends SIGINT to its foreground process group

    assert_all_stopped(make, terminal, marker)
    assert "SIGINT received" in terminal.text()


def test_sighup_stops_everything(make_serve):
    # when its terminal closes, an interactive shell sends SIGHUP to its jobs' process groups
    make, terminal, marker = make_serve

    os.killpg(make.pid, signal.SIGHUP)

    assert_all_stopped(make, terminal, marker)


def test_a_hung_up_terminal_stops_everything(make_serve):
    # `ssh -t host make run` losing its connection: the terminal hangs up and sends SIGHUP to its session
    # leader, make, which waits for honcho without passing it on
    make, terminal, marker = make_serve

    terminal.close()

    assert_all_stopped(make, terminal, marker)


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        (None, None, "http://127.0.0.1:8000/"),
        ("localhost", "8765", "http://localhost:8765/"),
        ("0.0.0.0", "8080", "http://127.0.0.1:8080/"),  # every interface, this machine's among them
    ],
)
def test_seed_demo_prints_the_url_make_run_serves(monkeypatch, host, port, url):
    for name, value in {"HOST": host, "PORT": port}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    out = io.StringIO()

    SeedDemo(stdout=out).print_logins()

    assert f"Portal   {url}\n" in out.getvalue()
    assert f"Officer console   {url}admin/\n" in out.getvalue()
    assert f"REST API   {url}api/docs/\n" in out.getvalue()
