"""Server-side image fingerprinting decodes only the allow-listed formats: a real PSD or FITS
file (Pillow would open both) is refused before its decoder runs; the photo formats work."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from services.common.imaging import FORMATS, ImageRejected, fingerprint_image


def psd() -> bytes:
    """A 1x1 RGB Photoshop file, raw channel data."""
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 1, 1, 8, 3)
    return header + struct.pack(">III", 0, 0, 0) + struct.pack(">H", 0) + b"\x10\x20\x30"


def fits() -> bytes:
    """A 1x1 8-bit FITS image."""
    cards = ["SIMPLE  =                    T", "BITPIX  =                    8",
             "NAXIS   =                    2", "NAXIS1  =                    1",
             "NAXIS2  =                    1", "END"]  # fmt: skip
    header = "".join(card.ljust(80) for card in cards).ljust(2880).encode()
    return header + b"\x7f".ljust(2880, b"\x00")


@pytest.mark.parametrize(
    ("name", "make", "pillow_format"), [("PSD", psd, "PSD"), ("FITS", fits, "FITS")]
)
def test_formats_outside_the_allow_list_are_refused_undecoded(
    name: str, make: object, pillow_format: str
) -> None:
    data = make()  # type: ignore[operator]
    with Image.open(io.BytesIO(data)) as image:  # Pillow alone would decode it
        assert image.format == pillow_format
    with pytest.raises(ImageRejected) as refused:
        fingerprint_image(data, max_pixels=10_000)
    assert refused.value.reason == "not_an_image", name


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_allowed_format_is_fingerprinted(fmt: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 90)).save(buffer, format=fmt)
    prints = fingerprint_image(buffer.getvalue(), max_pixels=10_000)
    assert (prints.width, prints.height) == (64, 48) and len(prints.pdq) == 64
