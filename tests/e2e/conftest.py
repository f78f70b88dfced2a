import os
import shutil

import pytest
from playwright.sync_api import sync_playwright

# Playwright's sync API runs an event loop in the test thread; the tests' own database calls are
# synchronous all the same.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium (or $CHROMIUM), driven by Playwright. Playwright's own browser download is not used.

    Module-scoped: while Playwright runs, Django's per-context connections differ from the tests' own,
    so it is stopped before the tests of the next module run.
    """
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not executable:
        message = "Chromium is not installed: the end-to-end tests need it (Debian: apt-get install chromium)"
        if os.environ.get("E2E_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, hs_nomenclature):
    """A browser page on the live server. Whatever the test does, no page may break the
    Content-Security-Policy: every violation Chromium reports fails the test."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}") if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert not violations, "\n".join(violations)
