import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from ewtp.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def database_url():
    """The URL of the test database, for a worker process to open the rows the test writes."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(log, **env):
    """A real `celery worker` process on the configured broker and the test database, logging to `log`."""
    with log.open("a") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ewtp", "worker", "--pool=solo", "--loglevel=INFO"]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url(), **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_worker(process):
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def celery_worker_process(hs_nomenclature, tmp_path):
    """A real worker process. Yields the path of its log, to show when a test fails."""
    celery_app.control.purge()  # messages left by an earlier run would otherwise reach this worker
    log = tmp_path / "worker.log"
    process = start_worker(log)
    yield log
    stop_worker(process)


def wait_for(condition, timeout=90):
    """Whether `condition()` came true within `timeout` seconds (asked every 0.2 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False
