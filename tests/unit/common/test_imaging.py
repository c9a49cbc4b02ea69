"""Server-side image fingerprinting decodes only the allow-listed formats: a real PSD or FITS
file (Pillow would open both) is refused before its decoder runs; the photo formats work."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from services.common.imaging import FORMATS, ImageRejected, fingerprint_image
from tests.support.images import REFUSED_FORMATS


@pytest.mark.parametrize(("name", "make"), REFUSED_FORMATS.items())
def test_formats_outside_the_allow_list_are_refused_undecoded(name: str, make: object) -> None:
    data = make()  # type: ignore[operator]
    with Image.open(io.BytesIO(data)) as image:  # Pillow alone would decode it
        assert image.format == name
    with pytest.raises(ImageRejected) as refused:
        fingerprint_image(data, max_pixels=10_000)
    assert refused.value.reason == "not_an_image", name


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_allowed_format_is_fingerprinted(fmt: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 90)).save(buffer, format=fmt)
    prints = fingerprint_image(buffer.getvalue(), max_pixels=10_000)
    assert (prints.width, prints.height) == (64, 48) and len(prints.pdq) == 64
