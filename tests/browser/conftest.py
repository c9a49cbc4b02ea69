"""Fixtures for the browser tests: a real intake process and headless Chromium.

Chromium is the Debian package (``/usr/bin/chromium``), never a downloaded browser, started
with a fresh profile and the flags that stop it from calling home. Every request the page
makes is recorded, so a test can assert that nothing left the page's own origin and that no
request carried a file's bytes. Screenshots of each page state go to
``.artifacts/browser/`` (ignored by git), kept as the test run's artefact.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Request, sync_playwright

from schemas.security import KafkaAccess
from tests.support.infra import require_tool
from tests.support.services import ROOT, ServiceProcess, service_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
]
ARTIFACTS = ROOT / ".artifacts" / "browser"


@dataclass
class SeenRequest:
    url: str
    method: str
    body: bytes


@dataclass
class RecordedPage:
    """A page of the browser plus every request it made."""

    page: Page
    origin: str
    requests: list[SeenRequest] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(scope="session")
def intake(
    kafka_bootstrap: KafkaAccess,
    redis_url: str,
    topics: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    """The intake service as a real process against the real Kafka and Redis."""
    data_dir = tmp_path_factory.mktemp("intake-browser")
    env = service_env(kafka=kafka_bootstrap, redis=redis_url, namespace=topics, data_dir=data_dir)
    process = ServiceProcess("intake", env, data_dir).start()
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    require_tool(str(CHROMIUM), package="chromium")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Chromium; Playwright gives every launch a fresh, temporary profile."""
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
    )
    try:
        yield browser
    finally:
        browser.close()


def _record(context: BrowserContext, recorded: RecordedPage) -> None:
    def on_request(request: Request) -> None:
        body = request.post_data_buffer or b""
        recorded.requests.append(SeenRequest(request.url, request.method, body))

    context.on("request", on_request)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browsing context (no cookies, no storage), phone-sized, English first."""
    context = browser.new_context(
        viewport={"width": 412, "height": 915},
        locale="en-GB",
        accept_downloads=True,
        permissions=["clipboard-read", "clipboard-write"],
    )
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def recorded(context: BrowserContext, intake: ServiceProcess) -> RecordedPage:
    """The page, not yet loaded, with every request it makes recorded (workers included)."""
    page = context.new_page()
    recorded = RecordedPage(page=page, origin=intake.url)
    _record(context, recorded)
    return recorded
