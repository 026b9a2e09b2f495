"""Fixtures for the browser journeys: the served stack, Debian's Chromium, and contexts that keep a trace on failure.

Every module here is marked `e2e` (pytestmark). They need PostgreSQL (TEST_DATABASE_URL), Redis
(REDIS_URL) and /usr/bin/chromium; when one is missing they skip, unless REQUIRE_E2E=1 (set by
`make e2e`), which turns the skip into a failure. In CI, .ci/run provides all three.
"""
import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.conftest import throwaway_postgres_database
from tests.e2e import billing
from tests.e2e.servers import ARTIFACTS, SCREENSHOTS, Stack, redis_db_url

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # The recipient's player starts the next track by itself; headless has no user gesture to allow it.
    "--autoplay-policy=no-user-gesture-required", "--mute-audio",
]
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True,
         "user_agent": ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")}

expect.set_options(timeout=10_000)


def _missing(reason):
    if os.environ.get("REQUIRE_E2E", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"REQUIRE_E2E is set but {reason}")
    pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's outcome on the test, and name the artifacts folder in a failure's report."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
    if report.failed and "e2e_artifacts" in getattr(item, "fixturenames", ()):
        folder = artifact_dir(item.name)
        report.sections.append(("e2e artifacts", f"Playwright trace and server logs: {folder}/\n"
                                                 f"  open the trace with: .venv/bin/playwright show-trace {folder}/trace-1.zip"))


def artifact_dir(test_name):
    return ARTIFACTS / re.sub(r"[^\w.-]+", "_", test_name)


@pytest.fixture(scope="package")
def stack(tmp_path_factory):
    """gunicorn + worker.py on a throwaway PostgreSQL database and Redis db 13, while tests/e2e runs."""
    base = os.environ.get("TEST_DATABASE_URL")
    redis = os.environ.get("REDIS_URL")
    if not base or not redis:
        _missing("browser tests need TEST_DATABASE_URL and REDIS_URL (make e2e sets them when the servers answer)")
    for stale in (SCREENSHOTS, ARTIFACTS / "logs"):
        shutil.rmtree(stale, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    workdir = tmp_path_factory.mktemp("e2e")
    with throwaway_postgres_database(base, prefix="coretet_e2e") as database_url:
        served = Stack(database_url, redis_db_url(redis), workdir, ARTIFACTS / "logs")
        fake = billing.start_fake_stripe() if billing.fake_stripe_available else None
        try:
            served.start(before_serving=fake and (lambda base_url: billing.app_settings(fake, base_url)))
            yield served
        finally:
            served.stop()
            if fake is not None:
                fake.close()


@pytest.fixture(scope="package")
def chromium():
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is missing: apt-get install chromium (make e2e and .ci/run do it as root)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        yield browser
        browser.close()


@pytest.fixture
def e2e_artifacts(request):
    """This test's artifacts folder (created on demand): traces of failures, copies of server logs."""
    return artifact_dir(request.node.name)


@pytest.fixture
def new_context(request, chromium, stack, e2e_artifacts):
    """Factory: new_context("desktop" | "phone") opens a browser context on the stack, traced.

    A trace is kept only when the test fails, with the server logs beside it.
    """
    opened = []

    def make(kind="desktop"):
        context = chromium.new_context(base_url=stack.base_url, **(PHONE if kind == "phone" else DESKTOP))
        context.set_default_timeout(15_000)
        context.tracing.start(screenshots=True, snapshots=True, title=f"{request.node.name} ({kind})")
        opened.append(context)
        return context

    yield make
    report = getattr(request.node, "rep_call", None)
    failed = report is None or report.failed
    shutil.rmtree(e2e_artifacts, ignore_errors=True)  # a pass clears an earlier failure's trace
    if failed:
        e2e_artifacts.mkdir(parents=True)
        for name in ("gunicorn.log", "worker.log"):
            (e2e_artifacts / name).write_text(stack.log_tail(name, lines=300))
    for number, context in enumerate(opened, 1):
        try:
            context.tracing.stop(path=e2e_artifacts / f"trace-{number}.zip" if failed else None)
        finally:
            context.close()


@pytest.fixture
def desktop(new_context):
    """A page in a desktop browser (1280×800)."""
    return new_context("desktop").new_page()


@pytest.fixture
def phone(new_context):
    """A page in an iPhone-sized browser (390×844, touch)."""
    return new_context("phone").new_page()
