"""Runs the Procfile under honcho, as `make run` does, so that nothing outlives it.

honcho stops every process of the Procfile, each with its children, on SIGINT and SIGTERM, but dies on
SIGHUP and leaves them running; and a write to a hung-up terminal kills its loop. It runs here with a
hang-up handler that silences its output and sends it SIGTERM, on SIGHUP, on a failed write, and when
its terminal hangs up while make, the session leader there (`ssh -t host make run`), waits with SIGHUP.
"""

import os
import select
import signal
import sys
import threading

from honcho.command import main


def hang_up(*_):
    if os.getpid() == HONCHO_PID:  # not in the helper processes honcho forks
        for fd in (1, 2):
            os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
        os.kill(HONCHO_PID, signal.SIGTERM)


class Output:
    """Standard output that, once the terminal has hung up, stops honcho instead of crashing its loop."""

    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def write(self, text):
        try:
            return self.stream.write(text)
        except OSError:
            hang_up()
            return len(text)

    def flush(self):
        try:
            self.stream.flush()
        except OSError:
            hang_up()


def watch_terminal():
    """Stop honcho when its terminal hangs up, though no signal says so (make, its session leader, got it)."""
    terminal = select.poll()
    terminal.register(1, 0)  # waits for POLLHUP and POLLERR alone
    if any(event & select.POLLHUP for _, event in terminal.poll()):
        hang_up()


HONCHO_PID = os.getpid()

if __name__ == "__main__":
    signal.signal(signal.SIGHUP, hang_up)
    sys.stdout = Output(sys.stdout)
    if os.isatty(1):
        threading.Thread(target=watch_terminal, daemon=True).start()
    sys.exit(main())
