"""Production settings refuse to start half-configured."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(args, **env):
    """Run `args` in a fresh interpreter with only `env` for DEBUG, SECRET_KEY and ALLOWED_HOSTS.

    The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE is left out too: production never sets it.
    """
    unset = {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "ewtp.settings", **env},
        capture_output=True,
        text=True,
    )


def load_settings(**env):
    return run(["-c", "import django; django.setup()"], **env)


def test_debug_off_without_a_secret_key_fails_fast():
    result = load_settings(DEBUG="false", ALLOWED_HOSTS="ehub.example.com")
    assert result.returncode != 0
    assert "With DEBUG off" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_debug_off_without_allowed_hosts_fails_fast():
    result = load_settings(DEBUG="false", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="false",
        SECRET_KEY="s3cr3t-" * 10,
        ALLOWED_HOSTS="ehub.example.com",
    )
    assert result.returncode == 0, result.stderr
