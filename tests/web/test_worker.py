"""The worker's message protocol (worker.js, jobs.js) returns the engine's fingerprints.

Node has no createImageBitmap, so "image" requests are checked through jobs.js with a
stand-in decoder that returns Pillow's pixels; the real worker.js entry point is driven
with a stand-in `self` to check its wiring and its answer when it cannot decode.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pdqhash
from PIL import Image, ImageOps

from .harness import run_harness


def drive(node: str, entry: str, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    payload = json.dumps({"entry": entry, "requests": requests}).encode()
    return run_harness(node, "worker_harness.mjs", stdin=payload)


def replies(
    messages: list[dict[str, Any]], request_id: str | int, kind: str
) -> list[dict[str, Any]]:
    return [m for m in messages if m["id"] == request_id and m["type"] == kind]


def rgba_pixels(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with Image.open(path) as image:
        rgb = np.asarray(ImageOps.exif_transpose(image).convert("RGB"), dtype=np.uint8)
    alpha = np.full(rgb.shape[:2], 255, dtype=np.uint8)
    return rgb, np.ascontiguousarray(np.dstack([rgb, alpha]))


def reference_pdq(rgb: np.ndarray) -> tuple[str, int]:
    bits, quality = pdqhash.compute(rgb)
    return f"{int(''.join(str(int(b)) for b in bits), 2):064x}", int(quality)


def test_file_md5_streams_with_progress(node: str, testdata: Path) -> None:
    video_dir = testdata / "video"
    with (video_dir / "md5.csv").open(newline="") as f:
        first = next(csv.DictReader(f))
    path = video_dir / first["file"]
    request = {"id": "v1", "kind": "file-md5", "filePath": str(path), "chunkBytes": 500_000}
    messages = drive(node, "worker", [request])
    [result] = replies(messages, "v1", "result")
    assert result["md5"] == first["md5"]
    assert result["bytes"] == path.stat().st_size
    done = [m["done"] for m in replies(messages, "v1", "progress")]
    assert done == sorted(done)
    assert done[-1] == path.stat().st_size
    assert len(done) == -(-path.stat().st_size // 500_000)


def test_image_and_pixels_give_reference_fingerprints(
    node: str, testdata: Path, tmp_path: Path
) -> None:
    source = testdata / "pdq" / "images" / "bridge-mods" / "square-256x256.jpg"
    image_file = tmp_path / source.name
    image_file.write_bytes(source.read_bytes())  # the harness decodes from <file>.rgba
    rgb, rgba = rgba_pixels(source)
    Path(f"{image_file}.rgba").write_bytes(rgba.tobytes())
    raw = tmp_path / "pixels.rgba"
    raw.write_bytes(rgba.tobytes())
    height, width, _ = rgba.shape
    requests = [
        {
            "id": "i1",
            "kind": "image",
            "filePath": str(image_file),
            "width": width,
            "height": height,
        },
        {"id": "p1", "kind": "pixels", "rgbaPath": str(raw), "width": width, "height": height},
    ]
    messages = drive(node, "jobs", requests)
    expected_pdq, expected_quality = reference_pdq(rgb)
    [image] = replies(messages, "i1", "result")
    [pixels] = replies(messages, "p1", "result")
    assert image["md5"] == hashlib.md5(source.read_bytes(), usedforsecurity=False).hexdigest()
    assert (image["width"], image["height"]) == (width, height)
    for result in (image, pixels):
        assert result["pdq"] == expected_pdq
        assert result["quality"] == expected_quality
        assert result["usable"] is (expected_quality >= 50)


def test_frames_are_hashed_in_order(node: str, testdata: Path, tmp_path: Path) -> None:
    images = testdata / "pdq" / "images" / "bridge-mods"
    frames = []
    expected = []
    for second, name in enumerate(["square-128x128.jpg", "square-512x512.jpg"]):
        rgb, rgba = rgba_pixels(images / name)
        raw = tmp_path / f"{second}.rgba"
        raw.write_bytes(rgba.tobytes())
        height, width, _ = rgba.shape
        frames.append({"rgbaPath": str(raw), "width": width, "height": height, "timestamp": second})
        expected.append(reference_pdq(rgb))
    messages = drive(node, "worker", [{"id": 7, "kind": "frames", "frames": frames}])
    [result] = replies(messages, 7, "result")
    assert [(f["pdq"], f["quality"]) for f in result["frames"]] == expected
    assert [f["timestamp"] for f in result["frames"]] == [0, 1]
    assert [m["done"] for m in replies(messages, 7, "progress")] == [1, 2]


def test_bad_requests_get_errors_not_silence(node: str, testdata: Path) -> None:
    image = testdata / "pdq" / "images" / "misc-images" / "wee.jpg"
    requests: list[dict[str, Any]] = [
        {"id": "x", "kind": "thumbnail"},
        {"id": "y", "kind": "pixels", "rgbaPath": str(image), "width": 3, "height": 3},
        {"id": "z", "kind": "image", "filePath": str(image)},
    ]
    messages = drive(node, "worker", requests)
    errors = {m["id"]: m["message"] for m in messages if m["type"] == "error"}
    assert set(errors) == {"x", "y", "z"}
    assert "thumbnail" in errors["x"]
    assert "pixel buffer" in errors["y"]
    assert "send 'pixels'" in errors["z"]  # node has no OffscreenCanvas: worker says so
    assert not [m for m in messages if m["type"] == "result"]
