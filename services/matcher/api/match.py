"""``POST /v1/match``: look a batch of signals up in the hash list and record every match.

Request design: ``upload_ref`` (the platform's opaque reference for the upload) may be given
once for the batch and overridden per signal, since a batch usually mixes several uploads.
A PDQ signal may ask for a radius above 31, up to 64; such a lookup is an exact scan of the
whole list (tens of ms at 10M), so at most ``max_wide_queries`` of them are allowed per
request. Every match is published to ``haven.matches.v1`` and acknowledged before the answer.
"""

from __future__ import annotations

from fastapi import APIRouter

from schemas.signals import SignalType
from services.common.http import ApiError
from services.matcher import operations
from services.matcher.api.deps import AUTH_RESPONSES, MatcherDep, PlatformDep
from services.matcher.api.models import (
    MatchCreate,
    MatchRead,
    MatchResultsRead,
    Md5Query,
    PdqQuery,
    QueryResultRead,
    VpdqQuery,
)
from services.matcher.lookup import DEFAULT_PDQ_DISTANCE, Lookup

router = APIRouter(prefix="/v1", tags=["match"])


def as_lookup(query: PdqQuery | Md5Query | VpdqQuery) -> Lookup:
    if isinstance(query, PdqQuery):
        return Lookup(SignalType.PDQ, query.value, max_distance=query.max_distance)
    if isinstance(query, Md5Query):
        return Lookup(SignalType.MD5, query.value)
    return Lookup(SignalType.VPDQ, frames=[(f.pdq, f.quality) for f in query.frames])


def check_wide_queries(body: MatchCreate, limit: int) -> None:
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


@router.post("/match", response_model=MatchResultsRead, responses=AUTH_RESPONSES)
async def match(
    body: MatchCreate,
    platform: PlatformDep,
    matcher: MatcherDep,
) -> MatchResultsRead:
    """Match up to 1,000 signals against the active hash list."""
    check_wide_queries(body, matcher.settings.max_wide_queries)
    lookups = [as_lookup(q) for q in body.signals]
    refs = [q.upload_ref if q.upload_ref is not None else body.upload_ref for q in body.signals]
    found = await operations.match_and_record(
        matcher=matcher, platform_id=platform.platform_id, lookups=lookups, refs=refs
    )
    return MatchResultsRead(
        results=[
            QueryResultRead(
                index=i, upload_ref=ref, matches=[MatchRead.model_validate(m) for m in matches]
            )
            for i, (ref, matches) in enumerate(zip(refs, found, strict=True))
        ]
    )
