"""Driving the submitter's page in tests: load it, pick files, read what it shows.

The page exposes what it computed in the DOM (``#review-list li`` data attributes and the
exact JSON in ``#payload``), which is what these helpers read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.browser.conftest import RecordedPage

WINDOW = 64  # bytes: a request "carries a file" if any 64-byte window of it appears


def open_page(recorded: RecordedPage, path: str = "/") -> None:
    recorded.page.goto(recorded.origin + path)
    recorded.page.wait_for_selector("body[data-ready='true']", timeout=15_000)


def pick_files(recorded: RecordedPage, files: list[Path], *, timeout_ms: int = 90_000) -> None:
    """Start a new case, pick ``files`` and wait until every one is fingerprinted."""
    page = recorded.page
    if page.locator("#view-pick").is_hidden():
        page.click("#start-new")
    recorded.screenshot("1-pick")
    page.set_input_files("#files", [str(path) for path in files])
    page.wait_for_function(
        "n => [...document.querySelectorAll('#file-list li')].length === n &&"
        " [...document.querySelectorAll('#file-list li')].every("
        "   li => li.dataset.state === 'done' || li.dataset.state === 'failed')",
        arg=len(files),
        timeout=timeout_ms,
    )


def review_items(recorded: RecordedPage) -> list[dict[str, Any]]:
    """Everything the review view lists, one dict per picked file."""
    recorded.page.wait_for_selector("#view-review:not([hidden])")
    items: list[dict[str, Any]] = recorded.page.eval_on_selector_all(
        "#review-list li",
        "lis => lis.map(li => ({...li.dataset, text: li.innerText}))",
    )
    return items


def windows(data: bytes, size: int = WINDOW) -> list[bytes]:
    """A sample of ``size``-byte windows spread over ``data`` (start, middle, end, ...)."""
    if len(data) <= size:
        return [data]
    step = max(size, len(data) // 64)
    return [data[i : i + size] for i in range(0, len(data) - size + 1, step)]


def assert_no_file_left(recorded: RecordedPage, files: list[Path]) -> None:
    """Every request went to the page's origin and none carried bytes of ``files``."""
    origin = urlsplit(recorded.origin)
    assert recorded.requests, "no request was recorded"
    for request in recorded.requests:
        url = urlsplit(request.url)
        if url.scheme in ("blob", "data"):
            continue
        assert (url.scheme, url.netloc) == (origin.scheme, origin.netloc), (
            f"request to another origin: {request.method} {request.url}"
        )
        assert len(request.body) < 1_000_000, f"large body sent to {request.url}"
    bodies = [request.body for request in recorded.requests if request.body]
    for path in files:
        data = path.read_bytes()
        for window in windows(data):
            for body in bodies:
                assert window not in body, f"a request carried bytes of {path.name}"
