"""Our JavaScript PDQ (pdq.js) agrees with Meta's reference on the reference images.

Each image is decoded once with Pillow (EXIF orientation applied, converted to RGB),
hashed with the `pdqhash` package (Meta's C++ PDQ), and the same pixels, as RGBA, are
hashed by pdq.js under Node. A browser decodes JPEGs slightly differently, which is why
the check against the stored expected.csv is looser than the check on shared pixels.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image, ImageOps

from .harness import hamming, run_harness

MAX_BITS_SAME_PIXELS = 2
MAX_BITS_VS_EXPECTED_CSV = 10
MAX_QUALITY_GAP = 2
PDQ_MIN_QUALITY = 50


@dataclass(frozen=True)
class ImageCase:
    """One reference image and what the stored reference says about it."""

    name: str
    expected_pdq: str
    expected_quality: int


@dataclass(frozen=True)
class Hashed:
    """A PDQ hash and its quality."""

    pdq: str
    quality: int


def load_cases(testdata: Path) -> list[ImageCase]:
    with (testdata / "pdq" / "expected.csv").open(newline="") as f:
        return [
            ImageCase(row["path"], row["pdq"], int(row["quality"])) for row in csv.DictReader(f)
        ]


def decode_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        upright = ImageOps.exif_transpose(image)
        return np.asarray(upright.convert("RGB"), dtype=np.uint8)


def reference_pdq(rgb: np.ndarray) -> Hashed:
    bits, quality = pdqhash.compute(rgb)
    value = int("".join(str(int(bit)) for bit in bits), 2)
    return Hashed(f"{value:064x}", int(quality))


@dataclass(frozen=True)
class Comparison:
    case: ImageCase
    reference: Hashed
    ours: Hashed


@pytest.fixture(scope="module")
def comparisons(
    node: str, testdata: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[Comparison]:
    """Hash every reference image with both implementations, on identical pixels."""
    workdir = tmp_path_factory.mktemp("pdq-pixels")
    cases = load_cases(testdata)
    references: dict[str, Hashed] = {}
    manifest = []
    for index, case in enumerate(cases):
        rgb = decode_rgb(testdata / "pdq" / "images" / case.name)
        references[case.name] = reference_pdq(rgb)
        height, width, _ = rgb.shape
        rgba = np.dstack([rgb, np.full((height, width), 255, dtype=np.uint8)])
        raw = workdir / f"{index}.rgba"
        raw.write_bytes(np.ascontiguousarray(rgba).tobytes())
        manifest.append({"name": case.name, "path": str(raw), "width": width, "height": height})
    manifest_path = workdir / "manifest.json"
    manifest_path.write_text(json.dumps(manifest))
    ours = {
        row["name"]: Hashed(row["hash"], row["quality"])
        for row in run_harness(node, "pdq_harness.mjs", str(manifest_path))
    }
    return [Comparison(case, references[case.name], ours[case.name]) for case in cases]


def test_every_reference_image_is_hashed(comparisons: list[Comparison]) -> None:
    assert len(comparisons) >= 30
    for c in comparisons:
        assert len(c.ours.pdq) == 64
        assert c.ours.pdq == c.ours.pdq.lower()


def test_hash_within_two_bits_of_pdqhash_on_same_pixels(comparisons: list[Comparison]) -> None:
    usable = [c for c in comparisons if c.reference.quality >= PDQ_MIN_QUALITY]
    assert usable, "no image of usable quality"
    distances = {c.case.name: hamming(c.ours.pdq, c.reference.pdq) for c in usable}
    print("\nPDQ bits differing from pdqhash on the same pixels:")
    for name, distance in distances.items():
        print(f"  {distance:3d}  {name}")
    print(f"max distance: {max(distances.values())} bits over {len(distances)} images")
    too_far = {name: d for name, d in distances.items() if d > MAX_BITS_SAME_PIXELS}
    assert not too_far, f"more than {MAX_BITS_SAME_PIXELS} bits from pdqhash: {too_far}"


def test_quality_agrees_with_pdqhash(comparisons: list[Comparison]) -> None:
    gaps = [abs(c.ours.quality - c.reference.quality) for c in comparisons]
    print(f"\nmax PDQ quality gap: {max(gaps)} over {len(gaps)} images")
    for c in comparisons:
        gap = abs(c.ours.quality - c.reference.quality)
        assert gap <= MAX_QUALITY_GAP, f"{c.case.name}: {c.ours.quality} vs {c.reference.quality}"
        assert (c.ours.quality >= PDQ_MIN_QUALITY) == (c.reference.quality >= PDQ_MIN_QUALITY)


def test_hash_close_to_stored_expected_values(comparisons: list[Comparison]) -> None:
    for c in comparisons:
        if c.case.expected_quality < PDQ_MIN_QUALITY:
            continue
        distance = hamming(c.ours.pdq, c.case.expected_pdq)
        assert distance <= MAX_BITS_VS_EXPECTED_CSV, f"{c.case.name}: {distance} bits"


def test_low_quality_image_is_flagged(comparisons: list[Comparison]) -> None:
    low = [c for c in comparisons if c.case.expected_quality < PDQ_MIN_QUALITY]
    assert low, "expected.csv lists a low-quality image (small.jpg)"
    for c in low:
        assert c.ours.quality < PDQ_MIN_QUALITY, c.case.name
