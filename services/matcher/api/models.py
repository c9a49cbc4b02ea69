"""The matcher's API models: request bodies are ``XCreate``, answers ``XRead``.

Signal values are the contract's own types (``schemas.signals``), so a bad value is refused
with the same message, quoting it, wherever it is sent.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.events import ActionKind
from schemas.signals import PDQ_MIN_QUALITY, Md5Hex, PdqHex, SignalType, VpdqFrame, signal_value
from services.matcher.lookup import DEFAULT_PDQ_DISTANCE, MAX_PDQ_DISTANCE

MAX_BATCH = 1000
UploadRef = Annotated[
    str, Field(max_length=200, description="opaque reference of the upload, chosen by you")
]


class PdqQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["pdq"]
    value: PdqHex
    max_distance: int = Field(
        DEFAULT_PDQ_DISTANCE,
        ge=0,
        le=MAX_PDQ_DISTANCE,
        description="Hamming radius; above 31 uses a slower exact scan",
    )
    upload_ref: UploadRef | None = None


class Md5Query(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["md5"]
    value: Md5Hex
    upload_ref: UploadRef | None = None


class VpdqQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["vpdq"]
    frames: list[VpdqFrame] = Field(min_length=1, max_length=10_000)
    upload_ref: UploadRef | None = None


Query = Annotated[PdqQuery | Md5Query | VpdqQuery, Field(discriminator="type")]


class MatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signals: list[Query] = Field(min_length=1, max_length=MAX_BATCH)
    upload_ref: UploadRef = ""


class MatchRead(BaseModel):
    """A matched entry (read from a ``domain.Match``)."""

    model_config = ConfigDict(from_attributes=True)
    signal: SignalType
    value: str = Field(description="the banked entry's value (for vPDQ: its frame digest)")
    distance: int = Field(description="Hamming distance; vPDQ: closest frame pair; MD5: 0")
    sequence: int = Field(description="the hash-list sequence of the entry matched")
    query_match_percent: float | None = Field(None, description="vPDQ: query frames matched")
    target_match_percent: float | None = Field(None, description="vPDQ: banked frames matched")


class QueryResultRead(BaseModel):
    index: int = Field(description="position of the query in the request")
    upload_ref: str
    matches: list[MatchRead]


class MatchResultsRead(BaseModel):
    results: list[QueryResultRead]


class PdqResultRead(BaseModel):
    value: str
    quality: int
    skipped: bool = Field(description=f"true if quality < {PDQ_MIN_QUALITY}: PDQ not matched")
    matches: list[MatchRead]


class Md5ResultRead(BaseModel):
    value: str
    matches: list[MatchRead]


class ImageMatchRead(BaseModel):
    upload_ref: str
    width: int
    height: int
    pdq: PdqResultRead
    md5: Md5ResultRead


class ActionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signal: SignalType
    value: str = Field(
        max_length=64,
        description="the matched entry's value, as the match answer gave it (vPDQ: its digest)",
    )
    action: ActionKind
    upload_ref: str = Field(max_length=200, description="your reference of the upload")

    @model_validator(mode="after")
    def _value_fits_signal(self) -> Self:
        self.value = signal_value(self.signal, self.value)
        return self


class ActionRead(BaseModel):
    event_id: uuid.UUID
    signal: SignalType
    value: str
    action: ActionKind
    upload_ref: str
