"""``POST /v1/match``: look a batch of signals up in the hash list and record every match.

Request design: ``upload_ref`` (the platform's opaque reference for the upload) may be given
once for the batch and overridden per signal, since a batch usually mixes several uploads.
A PDQ signal may ask for a radius above 31, up to 64; such a lookup is an exact scan of the
whole list (tens of ms at 10M), so at most ``max_wide_queries`` of them are allowed per
request. Every match is published to ``haven.matches.v1`` and acknowledged before the answer.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from schemas.signals import Md5Hex, PdqHex, SignalType, VpdqFrame
from schemas.topics import MATCHES
from services.common.http import ApiError
from services.matcher.adapters.events import match_events, publish_all
from services.matcher.api.deps import (
    AUTH_RESPONSES,
    IndexDep,
    MetricsDep,
    PlatformDep,
    ProducerDep,
    SettingsDep,
)
from services.matcher.domain import Match
from services.matcher.lookup import DEFAULT_PDQ_DISTANCE, MAX_PDQ_DISTANCE, Lookup, run_lookups

router = APIRouter(prefix="/v1", tags=["match"])

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


class MatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signals: list[Query] = Field(min_length=1, max_length=MAX_BATCH)
    upload_ref: UploadRef = ""


class MatchRead(BaseModel):
    signal: SignalType
    value: str = Field(description="the banked entry's value (for vPDQ: its frame digest)")
    distance: int = Field(description="Hamming distance; vPDQ: closest frame pair; MD5: 0")
    sequence: int = Field(description="the hash-list sequence of the entry matched")
    query_match_percent: float | None = Field(None, description="vPDQ: query frames matched")
    target_match_percent: float | None = Field(None, description="vPDQ: banked frames matched")


def match_read(m: Match) -> MatchRead:
    return MatchRead(
        signal=m.signal,
        value=m.value,
        distance=m.distance,
        sequence=m.sequence,
        query_match_percent=m.query_match_percent,
        target_match_percent=m.target_match_percent,
    )


class QueryResult(BaseModel):
    index: int = Field(description="position of the query in the request")
    upload_ref: str
    matches: list[MatchRead]


class MatchResponse(BaseModel):
    results: list[QueryResult]


def as_lookup(query: PdqQuery | Md5Query | VpdqQuery) -> Lookup:
    if isinstance(query, PdqQuery):
        return Lookup(SignalType.PDQ, query.value, max_distance=query.max_distance)
    if isinstance(query, Md5Query):
        return Lookup(SignalType.MD5, query.value)
    return Lookup(SignalType.VPDQ, frames=[(f.pdq, f.quality) for f in query.frames])


def check_wide_queries(body: MatchRequest, limit: int) -> None:
    wide = [
        i
        for i, q in enumerate(body.signals)
        if isinstance(q, PdqQuery) and q.max_distance > DEFAULT_PDQ_DISTANCE
    ]
    if len(wide) > limit:
        raise ApiError(
            422,
            "too_many_wide_queries",
            f"at most {limit} PDQ signals per request may use max_distance above "
            f"{DEFAULT_PDQ_DISTANCE}; this request has {len(wide)}",
            fields=[
                {"field": f"signals.{i}.max_distance", "message": "exact scan path"}
                for i in wide[limit:]
            ],
        )


def publish_matches(
    producer: ProducerDep,
    topic: str,
    platform_id: str,
    found: list[tuple[str, list[Match]]],
    timeout: float,
) -> None:
    """Publish one MatchFound per match (``DeliveryFailed`` is the HTTP shell's 503)."""
    events = [e for ref, matches in found for e in match_events(platform_id, matches, ref)]
    if events:
        publish_all(producer, topic, events, timeout=timeout)


@router.post("/match", response_model=MatchResponse, responses=AUTH_RESPONSES)
async def match(
    body: MatchRequest,
    platform: PlatformDep,
    worker: IndexDep,
    producer: ProducerDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> MatchResponse:
    """Match up to 1,000 signals against the active hash list."""
    check_wide_queries(body, settings.max_wide_queries)
    lookups = [as_lookup(q) for q in body.signals]
    found = await run_in_threadpool(run_lookups, worker, metrics, lookups)
    refs = [q.upload_ref if q.upload_ref is not None else body.upload_ref for q in body.signals]
    await run_in_threadpool(
        publish_matches,
        producer,
        settings.topic(MATCHES),
        platform.platform_id,
        list(zip(refs, found, strict=True)),
        settings.publish_timeout_s,
    )
    return MatchResponse(
        results=[
            QueryResult(index=i, upload_ref=ref, matches=[match_read(m) for m in matches])
            for i, (ref, matches) in enumerate(zip(refs, found, strict=True))
        ]
    )
