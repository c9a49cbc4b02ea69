"""The page's promises that the browser enforces: headers, no cookies, no other origin.

Checked on the wire (httpx against the real intake process) and in Chromium: the page
loads with a strict Content-Security-Policy and no console errors (a CSP violation would
be one), sets no cookie, and a language switch shows the page in Japanese.
"""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, expect

from tests.browser.conftest import RecordedPage
from tests.browser.page import assert_no_file_left, open_page
from tests.support.services import ServiceProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.mark.parametrize("path", ["/", "/static/js/main.js", "/static/i18n/ja.json"])
def test_page_and_its_files_carry_strict_security_headers(
    intake: ServiceProcess, path: str
) -> None:
    response = httpx.get(intake.url + path, timeout=10)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "worker-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "camera=()" in response.headers["permissions-policy"]
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "path",
    [
        "/static/../settings.py",
        "/static/%2e%2e/api/page.py",
        "/static/.hidden.js",
        "/static/nope.js",
        "/static/tsconfig.json",
        "/static/fingerprint/package.json",
    ],
)
def test_nothing_outside_the_web_files_is_served(intake: ServiceProcess, path: str) -> None:
    response = httpx.get(intake.url + path, timeout=10)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_page_loads_cleanly_and_speaks_japanese(recorded: RecordedPage) -> None:
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    recorded.page.on("console", on_console)
    recorded.page.on("pageerror", lambda error: errors.append(str(error)))
    open_page(recorded)
    page = recorded.page
    expect(page.locator("#home-title")).to_have_text("Stop your photos and videos from spreading")
    page.select_option("#language", "ja")
    expect(page.locator("#home-title")).to_have_text("あなたの写真や動画の拡散を止めましょう")
    assert page.evaluate("document.documentElement.lang") == "ja"
    recorded.screenshot("8-home-japanese")
    page.click("#start-lookup")
    expect(page.locator("label[for='lookup-case-number']")).to_have_text("ケース番号")
    page.select_option("#language", "es")
    expect(page.locator("#lookup-title")).to_have_text("Consulta tu caso")
    assert page.context.cookies() == []
    assert errors == []
    assert_no_file_left(recorded, [])


def test_language_follows_the_browser(browser: Browser, intake: ServiceProcess) -> None:
    context = browser.new_context(locale="ja-JP")
    try:
        page = context.new_page()
        page.goto(intake.url + "/")
        page.wait_for_selector("body[data-ready='true']")
        expect(page.locator("#home-title")).to_have_text("あなたの写真や動画の拡散を止めましょう")
        expect(page.locator("#language")).to_have_value("ja")
    finally:
        context.close()
