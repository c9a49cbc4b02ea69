"""A submitter's whole journey in Chromium against a real intake process.

Open a case with two photos and a video (fingerprints computed on the page, proof-of-work
solved on the page), keep the case number and secret (copy, save as a text file), see the
status, watch it show what platforms reported (events published to the real topics, as
the distributor and matcher would), add a photo, withdraw after a confirmation, and come
back later with the saved file. Every request stayed on the page's origin and none carried
a file's bytes; the server agrees with what the page shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from schemas.events import (
    ActionKind,
    ActionReported,
    Channel,
    DeliveryOutcome,
    DeliveryRecorded,
    MatchFound,
)
from schemas.security import KafkaAccess
from schemas.signals import SignalType
from schemas.topics import qualified
from services.common.kafka import EventProducer
from tests.browser.conftest import ARTIFACTS, RecordedPage
from tests.browser.page import assert_no_file_left, open_page, pick_files, review_items
from tests.support.intake import case_status
from tests.support.services import ServiceProcess
from tests.support.wait import wait_until
from tests.web.harness import TESTDATA

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PHOTOS = [
    TESTDATA / "pdq" / "images" / "bridge-mods" / "aaa-orig.jpg",
    TESTDATA / "pdq" / "images" / "misc-images" / "c.png",
]
VIDEO = TESTDATA / "video" / "pattern-sd-grey-bar.mp4"
ADDED = TESTDATA / "pdq" / "images" / "reg-test-input" / "dih" / "bridge-2-rotate-90.jpg"
CASE_NUMBER = re.compile(r"^HVN-[0-9A-Z]{5}-[0-9A-Z]{5}$")


@pytest.fixture(scope="module")
def producer(kafka_bootstrap: KafkaAccess) -> Iterator[EventProducer]:
    producer = EventProducer(kafka_bootstrap)
    try:
        yield producer
    finally:
        producer.close()


def report_platform_activity(producer: EventProducer, namespace: str, pdq: str) -> None:
    """What the distributor and matcher publish once a platform got and used a photo's PDQ."""
    key = f"pdq:{pdq}"
    producer.send(
        qualified("haven.deliveries.v1", namespace),
        "platform-a",
        DeliveryRecorded(
            platform_id="platform-a",
            channel=Channel.PULL,
            batch_id="batch-1",
            first_sequence=1,
            last_sequence=1,
            keys=[key],
            outcome=DeliveryOutcome.DELIVERED,
        ),
    )
    producer.send(
        qualified("haven.matches.v1", namespace),
        key,
        MatchFound(
            platform_id="platform-a",
            signal=SignalType.PDQ,
            value=pdq,
            sequence=1,
            distance=0,
            upload_ref="upload-1",
        ),
    )
    producer.send(
        qualified("haven.actions.v1", namespace),
        key,
        ActionReported(
            platform_id="platform-a",
            signal=SignalType.PDQ,
            value=pdq,
            action=ActionKind.REMOVED,
            upload_ref="upload-1",
        ),
    )


def test_open_check_add_withdraw_and_come_back(
    recorded: RecordedPage,
    context: BrowserContext,
    intake: ServiceProcess,
    producer: EventProducer,
    topics: str,
    tmp_path: Path,
) -> None:
    page = recorded.page
    open_page(recorded)
    recorded.screenshot("0-home")

    # Pick, fingerprint, review.
    pick_files(recorded, [*PHOTOS, VIDEO])
    page.click("#pick-continue")
    items = review_items(recorded)
    assert [item["type"] for item in items] == ["image", "image", "video"]
    send = page.locator("#review-send")
    expect(send).to_be_disabled()  # not before the attestation
    page.check("#attest")
    expect(send).to_be_enabled()
    send.click()

    # The case number and the secret, shown once.
    expect(page.locator("#view-done")).to_be_visible(timeout=60_000)
    assert page.evaluate("document.activeElement.id") == "done-title"
    case_number = page.locator("#done-case-number").inner_text()
    secret = page.locator("#done-secret").inner_text()
    assert CASE_NUMBER.match(case_number), case_number
    assert len(secret) >= 22
    recorded.screenshot("4-case-opened")
    page.click("#copy-secret")
    expect(page.locator("#done-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    with page.expect_download() as download_info:
        page.click("#save-file")
    download = download_info.value
    assert download.suggested_filename == f"haven-case-{case_number}.txt"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = saved.read_text()
    assert f"HAVEN-CASE: {case_number}" in text
    assert f"HAVEN-SECRET: {secret}" in text

    # Status, before and after platforms report.
    page.click("#done-status-button")
    expect(page.locator("#view-status")).to_be_visible()
    expect(page.locator("#status-media tbody tr")).to_have_count(3)
    expect(page.locator("#status-state")).to_contain_text("Open")
    photo_pdq = items[0]["pdq"]
    report_platform_activity(producer, topics, photo_pdq)

    def totals_show_activity() -> bool:
        page.click("#status-refresh")
        expect(page.locator("#status-status")).to_have_text("Up to date.")
        shared = page.locator("[data-total='shared_with']").get_attribute("data-value")
        removed = page.locator("[data-total='removed']").get_attribute("data-value")
        return shared == "1" and removed == "1"

    wait_until(totals_show_activity, timeout=30, interval=0.5, what="the platform's activity")
    first_row = page.locator("#status-media tbody tr").first
    expect(first_row).to_contain_text("Removed: 1")
    assert first_row.get_attribute("data-matched-on") == "1"
    recorded.screenshot("5-status")

    # Add a photo to the case.
    page.click("#status-add")
    expect(page.locator("#pick-adding")).to_contain_text(case_number)
    pick_files(recorded, [ADDED])
    page.click("#pick-continue")
    review_items(recorded)
    page.check("#attest")
    expect(page.locator("#review-send")).to_have_text("Add to my case")
    page.click("#review-send")
    expect(page.locator("#view-status")).to_be_visible(timeout=60_000)
    expect(page.locator("#status-status")).to_have_text("Added 1 to your case.")
    expect(page.locator("#status-media tbody tr")).to_have_count(4)

    # Withdraw, after saying no once.
    page.click("#status-withdraw")
    dialog = page.locator("#withdraw-dialog")
    expect(dialog).to_be_visible()
    recorded.screenshot("6-withdraw-confirm")
    page.click("#withdraw-cancel")
    expect(dialog).to_be_hidden()
    assert case_status(intake.url, case_number, secret)["status"] == "open"
    page.click("#status-withdraw")
    page.click("#withdraw-confirm")
    expect(page.locator("#status-status")).to_have_text("Your case is withdrawn.")
    expect(page.locator("#status-state")).to_contain_text("Withdrawn")
    expect(page.locator("#status-withdraw")).to_be_hidden()
    recorded.screenshot("7-withdrawn")
    assert case_status(intake.url, case_number, secret)["status"] == "withdrawn"

    assert_no_file_left(recorded, [*PHOTOS, VIDEO, ADDED])
    # The recording sees the workers' own requests too, so "no other origin" covers them.
    paths = {request.url.removeprefix(intake.url) for request in recorded.requests}
    assert {"/static/fingerprint/jobs.js", "/static/js/pow-worker.js"} <= paths

    # Later, in a fresh tab: a wrong secret is refused, the saved file opens the case.
    later = context.new_page()
    later.goto(intake.url + "/")
    later.wait_for_selector("body[data-ready='true']")
    later.click("#start-lookup")
    later.fill("#lookup-case-number", case_number.lower().replace("-", ""))
    later.fill("#lookup-secret", "not-the-secret")
    later.click("#lookup-form button[type=submit]")
    expect(later.locator("#lookup-status")).to_contain_text("could not find a case")
    later.screenshot(path=str(ARTIFACTS / "9-lookup-wrong-secret.png"), full_page=True)
    later.set_input_files("#lookup-file", str(saved))
    expect(later.locator("#lookup-secret")).to_have_value(secret)
    later.click("#lookup-form button[type=submit]")
    expect(later.locator("#view-status")).to_be_visible()
    expect(later.locator("#status-case-number")).to_have_text(case_number)
    expect(later.locator("#status-state")).to_contain_text("Withdrawn")
    later.close()
