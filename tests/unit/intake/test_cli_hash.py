"""``haven hash`` against the shared reference data: PDQ as Meta's, MD5 of the file, and
vPDQ frames that match the reference vPDQ output under the vPDQ rule."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from services.cli import main

TESTDATA = Path(__file__).resolve().parents[4] / "shared" / "testdata"


def run_hash(capsys: pytest.CaptureFixture[str], *paths: Path) -> list[dict[str, object]]:
    assert main(["hash", *map(str, paths)]) == 0
    captured = capsys.readouterr()
    items: list[dict[str, object]] = json.loads(captured.out)
    if len(paths) > 1:
        assert f"{len(paths)}/{len(paths)}" in captured.err  # the progress bar
    return items


def distance(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def test_images_hash_like_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    with (TESTDATA / "pdq" / "expected.csv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(r["quality"]) >= 50][:12]
    paths = [TESTDATA / "pdq" / "images" / r["path"] for r in rows]
    items = run_hash(capsys, *paths)
    for row, path, item in zip(rows, paths, items, strict=True):
        assert item["type"] == "image"
        assert distance(str(item["pdq"]), row["pdq"]) == 0, row["path"]
        assert item["quality"] == int(row["quality"])
        assert item["md5"] == hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def test_videos_give_md5_and_vpdq_matching_the_reference(
    capsys: pytest.CaptureFixture[str],
) -> None:
    video_dir = TESTDATA / "video"
    with (video_dir / "md5.csv").open(newline="") as f:
        expected = {r["file"]: r["md5"] for r in csv.DictReader(f)}
    items = run_hash(capsys, *(video_dir / name for name in expected))
    for (name, md5), item in zip(expected.items(), items, strict=True):
        assert item["type"] == "video" and item["md5"] == md5
        reference = [
            line.split(",")[2]
            for line in (video_dir / name.replace(".mp4", ".vpdq.txt")).read_text().split()
        ]
        frames = item["frames"]
        assert isinstance(frames, list) and frames
        near = [min(distance(f["pdq"], r) for r in reference) <= 31 for f in frames]
        assert sum(near) / len(near) >= 0.8, name
        assert [f["timestamp"] for f in frames] == [float(i) for i in range(len(frames))]


def test_unreadable_file_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bogus = tmp_path / "notes.jpg"
    bogus.write_text("not an image")
    assert main(["hash", str(bogus)]) == 1
    assert "notes.jpg: not an image" in capsys.readouterr().err
