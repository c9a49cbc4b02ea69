"""The page fingerprints real photos and a real video in Chromium, matching the references.

Photos: every image of the PDQ reference set is picked at once; per image the page's PDQ
(decoded by the browser) is within 10 bits of ``expected.csv`` (the PDQ documentation's bar
for a correct port) and its MD5 equals the file's. The image with too little detail is
refused with a message a person understands. Video: the MD5 is the file's and the vPDQ
frames (sampled at 1 fps through <video> and a canvas) match the reference under the vPDQ
rule. Nothing the page requested left its origin or carried a file's bytes.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import RecordedPage
from tests.browser.page import assert_no_file_left, open_page, pick_files, review_items
from tests.web.harness import TESTDATA, hamming
from tests.web.test_vpdq import Frame, parse_reference, reference_at_one_fps, rule_percentages

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

IMAGES = TESTDATA / "pdq" / "images"
VIDEOS = TESTDATA / "video"
MAX_PDQ_DISTANCE = 10
VPDQ_MATCH_PERCENT = 80.0


def expected_images() -> dict[str, dict[str, str]]:
    with (TESTDATA / "pdq" / "expected.csv").open(newline="") as f:
        return {row["path"]: row for row in csv.DictReader(f)}


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def test_photos_fingerprinted_in_the_browser_match_the_reference(recorded: RecordedPage) -> None:
    expected = expected_images()
    paths = [IMAGES / name for name in expected]
    open_page(recorded)
    pick_files(recorded, paths)
    recorded.screenshot("2-photos-fingerprinted")
    low = recorded.page.locator("#file-list li", has_text="small.jpg")
    assert "too little detail" in low.inner_text()

    recorded.page.click("#pick-continue")
    items = review_items(recorded)
    recorded.screenshot("3-review-photos")
    by_name = {item["name"]: item for item in items if "index" in item}
    distances: dict[str, int] = {}
    duplicates = 0
    for name, row in expected.items():
        base = Path(name).name
        path = IMAGES / name
        if int(row["quality"]) < 50:
            assert base not in by_name, f"{base} has too little detail but would be sent"
            continue
        if base not in by_name:
            # Left out as a byte-identical copy of another picked file (same MD5).
            left_out = next(item for item in items if item["name"] == base)
            assert "same file" in left_out["text"], left_out
            duplicates += 1
            continue
        item = by_name[base]
        assert item["md5"] == md5_of(path), f"{name}: MD5 differs"
        distances[name] = hamming(item["pdq"], row["pdq"])
    worst = max(distances, key=lambda name: distances[name])
    print(
        f"\nbrowser PDQ vs expected.csv over {len(distances)} images: "
        f"max distance {distances[worst]} bits ({worst}), duplicates left out: {duplicates}"
    )
    far = {name: d for name, d in distances.items() if d > MAX_PDQ_DISTANCE}
    assert not far, f"PDQ more than {MAX_PDQ_DISTANCE} bits from the reference: {far}"
    assert len(distances) >= 30

    payload = json.loads(recorded.page.locator("#payload").text_content() or "")
    assert {item["md5"] for item in payload["items"]} == {i["md5"] for i in by_name.values()}
    assert_no_file_left(recorded, paths)


def test_video_fingerprinted_in_the_browser_matches_the_reference(recorded: RecordedPage) -> None:
    video = VIDEOS / "pattern-sd-grey-bar.mp4"
    open_page(recorded)
    pick_files(recorded, [video])
    recorded.page.click("#pick-continue")
    items = review_items(recorded)
    (item,) = items
    assert item["type"] == "video"
    with (VIDEOS / "md5.csv").open(newline="") as f:
        reference_md5 = {row["file"]: row["md5"] for row in csv.DictReader(f)}[video.name]
    assert item["md5"] == reference_md5 == md5_of(video)

    payload: dict[str, Any] = json.loads(recorded.page.locator("#payload").text_content() or "")
    (media,) = payload["items"]
    ours = [Frame(f["pdq"], f["quality"], f["timestamp"]) for f in media["frames"]]
    reference = reference_at_one_fps(
        parse_reference((VIDEOS / f"{video.stem}.vpdq.txt").read_text())
    )
    query_percent, target_percent = rule_percentages(ours, reference)
    print(
        f"\nbrowser vPDQ of {video.name}: {len(ours)} frames, "
        f"{query_percent:.1f}% of ours and {target_percent:.1f}% of the reference's within 31 bits"
    )
    assert len(ours) == len(reference)
    assert query_percent >= VPDQ_MATCH_PERCENT
    assert target_percent >= VPDQ_MATCH_PERCENT
    assert_no_file_left(recorded, [video])
