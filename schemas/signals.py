"""Signal value types: the fingerprints Haven shares (PDQ, MD5, vPDQ), strictly validated.

Values are normalised to lower case; anything else is refused with a message that quotes the
bad value, so an API can hand it straight back to the caller.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

PDQ_MIN_QUALITY = 50
LOW_QUALITY_MESSAGE = (
    "this image has too little detail to fingerprint (PDQ quality {quality} is below "
    f"{PDQ_MIN_QUALITY}); try a different photo"
)

_HEX = re.compile(r"[0-9a-f]*")


class SignalType(StrEnum):
    """Kinds of fingerprint on the hash list; the prefix of every hash-list key."""

    PDQ = "pdq"
    MD5 = "md5"
    VPDQ = "vpdq"


def _hex_checker(length: int, what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        normalised = value.strip().lower()
        if len(normalised) != length or not _HEX.fullmatch(normalised):
            raise ValueError(f"{value!r} is not a valid {what}: expected {length} hex characters")
        return normalised

    return check


_VALUE_CHECKS = {
    SignalType.PDQ: _hex_checker(64, "PDQ hash"),
    SignalType.MD5: _hex_checker(32, "MD5 hash"),
    SignalType.VPDQ: _hex_checker(64, "vPDQ digest"),
}
PdqHex = Annotated[str, AfterValidator(_VALUE_CHECKS[SignalType.PDQ])]
Md5Hex = Annotated[str, AfterValidator(_VALUE_CHECKS[SignalType.MD5])]


def signal_value(signal: SignalType, value: str) -> str:
    """``value`` normalised (lower case) if it is a valid hash-list value of ``signal`` (for
    vPDQ its frame digest); otherwise a ``ValueError`` quoting it."""
    return _VALUE_CHECKS[signal](value)


Quality = Annotated[int, Field(ge=0, le=100, description="PDQ quality, 0-100")]


class StrictModel(BaseModel):
    """Base for every contract model: unknown fields are an error, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class VpdqFrame(StrictModel):
    """One sampled video frame: its PDQ, the PDQ quality and where it sits in the video."""

    pdq: PdqHex
    quality: Quality
    timestamp: float = Field(ge=0, description="seconds from the start of the video")


class ImageMedia(StrictModel):
    """A photo's fingerprints as computed on the submitter's device."""

    type: Literal["image"] = "image"
    pdq: PdqHex
    quality: Quality
    md5: Md5Hex

    @field_validator("quality")
    @classmethod
    def _enough_detail(cls, quality: int) -> int:
        if quality < PDQ_MIN_QUALITY:
            raise ValueError(LOW_QUALITY_MESSAGE.format(quality=quality))
        return quality


class VideoMedia(StrictModel):
    """A video's fingerprints: MD5 of the whole file and one PDQ per sampled frame (vPDQ)."""

    type: Literal["video"] = "video"
    md5: Md5Hex
    frames: list[VpdqFrame] = Field(min_length=1, description="vPDQ frames, one per second")


Media = Annotated[ImageMedia | VideoMedia, Field(discriminator="type")]


def vpdq_digest(frames: list[VpdqFrame]) -> str:
    """Identity of a vPDQ signal on the hash list: SHA-256 over its frame hashes in order."""
    return hashlib.sha256(",".join(frame.pdq for frame in frames).encode()).hexdigest()


def hash_key(signal: SignalType, value: str) -> str:
    """The hash-list key, ``<signal>:<value>``: one entry per fingerprint across all cases."""
    return f"{signal.value}:{value}"


class Signal(StrictModel):
    """One fingerprint on the hash list. ``frames`` is set only for vPDQ."""

    signal: SignalType
    value: str = Field(description="PDQ/MD5 hex, or for vPDQ the SHA-256 of its frame hashes")
    frames: list[VpdqFrame] | None = None

    @property
    def key(self) -> str:
        return hash_key(self.signal, self.value)


def signals_of(media: ImageMedia | VideoMedia) -> list[Signal]:
    """The hash-list signals one media item contributes."""
    if isinstance(media, ImageMedia):
        return [
            Signal(signal=SignalType.PDQ, value=media.pdq),
            Signal(signal=SignalType.MD5, value=media.md5),
        ]
    return [
        Signal(signal=SignalType.MD5, value=media.md5),
        Signal(signal=SignalType.VPDQ, value=vpdq_digest(media.frames), frames=media.frames),
    ]
