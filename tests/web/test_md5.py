"""Our JavaScript MD5 (md5.js) equals hashlib's, streamed in chunks or fed irregularly."""

from __future__ import annotations

import csv
import hashlib
import random
from pathlib import Path

import pytest

from .harness import run_harness

# Lengths around the 56- and 64-byte padding boundaries, and a few multi-chunk sizes.
EDGE_LENGTHS = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65_537]


def reference_md5(data: bytes) -> str:
    """MD5 as a file fingerprint (not for security), as platforms compute it."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_random_data_matches_hashlib(node: str, tmp_path: Path) -> None:
    rng = random.Random(20240601)
    lengths = [*EDGE_LENGTHS, 1_000_003, 3 * 1024 * 1024 + 17]
    files = []
    for length in lengths:
        path = tmp_path / f"random-{length}.bin"
        path.write_bytes(rng.randbytes(length))
        files.append(path)
    # A small odd chunk size makes every multi-chunk file cross many chunk borders.
    results = run_harness(node, "md5_harness.mjs", "65521", *map(str, files))
    assert len(results) == len(files)
    for path, result in zip(files, results, strict=True):
        expected = reference_md5(path.read_bytes())
        assert result["streamed"] == expected, path.name
        assert result["irregular"] == expected, path.name


def test_reference_videos_match_md5_csv(node: str, testdata: Path) -> None:
    video_dir = testdata / "video"
    with (video_dir / "md5.csv").open(newline="") as f:
        expected = {row["file"]: row["md5"] for row in csv.DictReader(f)}
    assert expected
    paths = [str(video_dir / name) for name in expected]
    results = run_harness(node, "md5_harness.mjs", str(1024 * 1024), *paths)
    for name, result in zip(expected, results, strict=True):
        assert result["streamed"] == expected[name], name
        assert result["irregular"] == expected[name], name


def test_streaming_reports_progress_to_the_end(node: str, tmp_path: Path) -> None:
    path = tmp_path / "progress.bin"
    path.write_bytes(bytes(range(256)) * 40)  # 10,240 bytes
    [result] = run_harness(node, "md5_harness.mjs", "4096", str(path))
    assert result["progress"] == [[4096, 10240], [8192, 10240], [10240, 10240]]


@pytest.mark.parametrize("text", ["", "a", "abc", "message digest"])
def test_rfc1321_vectors(node: str, tmp_path: Path, text: str) -> None:
    path = tmp_path / "vector.txt"
    path.write_bytes(text.encode())
    [result] = run_harness(node, "md5_harness.mjs", "7", str(path))
    assert result["streamed"] == reference_md5(text.encode())
