"""Signal values are validated strictly and normalised to lower case."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from schemas.signals import ImageMedia, Media, VideoMedia, signals_of, vpdq_digest

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5 = "0a21c8f85a55a9e276ffc2c53f6887c4"
MEDIA: TypeAdapter[ImageMedia | VideoMedia] = TypeAdapter(Media)


def test_upper_case_values_are_normalised() -> None:
    image = ImageMedia(pdq=PDQ.upper(), quality=90, md5=MD5.upper())
    assert (image.pdq, image.md5) == (PDQ, MD5)


@pytest.mark.parametrize(
    ("field", "value", "quoted"),
    [
        ("pdq", "xyz", "'xyz'"),
        ("pdq", PDQ[:-1], repr(PDQ[:-1])),
        ("md5", MD5 + "0", repr(MD5 + "0")),
        ("md5", "g" * 32, repr("g" * 32)),
    ],
)
def test_bad_hex_is_refused_quoting_the_value(field: str, value: str, quoted: str) -> None:
    fields = {"pdq": PDQ, "quality": 90, "md5": MD5, field: value}
    with pytest.raises(ValidationError) as info:
        ImageMedia.model_validate(fields)
    assert quoted in str(info.value)


def test_low_quality_image_is_refused_in_words_a_person_understands() -> None:
    with pytest.raises(ValidationError, match="too little detail to fingerprint"):
        ImageMedia(pdq=PDQ, quality=49, md5=MD5)
    assert ImageMedia(pdq=PDQ, quality=50, md5=MD5).quality == 50


def test_unknown_fields_and_types_are_refused() -> None:
    with pytest.raises(ValidationError):
        MEDIA.validate_python({"type": "image", "pdq": PDQ, "quality": 90, "md5": MD5, "x": 1})
    with pytest.raises(ValidationError):
        MEDIA.validate_python({"type": "audio", "md5": MD5})


def test_video_needs_frames_and_yields_md5_and_vpdq_signals() -> None:
    with pytest.raises(ValidationError):
        VideoMedia(md5=MD5, frames=[])
    video = MEDIA.validate_python(
        {"type": "video", "md5": MD5, "frames": [{"pdq": PDQ, "quality": 80, "timestamp": 0.0}]}
    )
    keys = [signal.key for signal in signals_of(video)]
    assert keys == [f"md5:{MD5}", f"vpdq:{vpdq_digest(video.frames)}"]  # type: ignore[union-attr]


def test_image_yields_pdq_and_md5_signals() -> None:
    keys = [s.key for s in signals_of(ImageMedia(pdq=PDQ, quality=90, md5=MD5))]
    assert keys == [f"pdq:{PDQ}", f"md5:{MD5}"]
