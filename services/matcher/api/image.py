"""``POST /v1/match/image``: the platform sends an image; Haven fingerprints it and matches.

The body is the raw image (``Content-Type: image/*`` or ``application/octet-stream``), read
into memory by the HTTP shell (which caps every body) and never written anywhere: no
multipart parsing, whose parser spools large parts to temporary files. Decoding and PDQ run
in worker threads, at most ``image_workers`` at once, so big images cannot exhaust memory.

A PDQ of quality below 50 is not a reliable fingerprint (PDQ's own rule): the MD5 is still
matched and the answer says the PDQ lookup was skipped.
"""

from __future__ import annotations

import time
from functools import partial

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from schemas.signals import PDQ_MIN_QUALITY, SignalType
from schemas.topics import MATCHES
from services.common.http import ApiError
from services.matcher.adapters.imaging import ImageFingerprints, ImageRejected, fingerprint_image
from services.matcher.api.deps import (
    AUTH_RESPONSES,
    IndexDep,
    MetricsDep,
    PlatformDep,
    ProducerDep,
    SettingsDep,
)
from services.matcher.api.match import MatchRead, match_read, publish_matches
from services.matcher.lookup import DEFAULT_PDQ_DISTANCE, Lookup, run_lookups

router = APIRouter(prefix="/v1", tags=["match"])

IMAGE_TYPES = ("image/", "application/octet-stream")
_limiters: dict[int, anyio.CapacityLimiter] = {}


class PdqResult(BaseModel):
    value: str
    quality: int
    skipped: bool = Field(description=f"true if quality < {PDQ_MIN_QUALITY}: PDQ not matched")
    matches: list[MatchRead]


class Md5Result(BaseModel):
    value: str
    matches: list[MatchRead]


class ImageMatchResponse(BaseModel):
    upload_ref: str
    width: int
    height: int
    pdq: PdqResult
    md5: Md5Result


def _limiter(workers: int) -> anyio.CapacityLimiter:
    if workers not in _limiters:
        _limiters[workers] = anyio.CapacityLimiter(workers)
    return _limiters[workers]


def _check_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not content_type.startswith(IMAGE_TYPES):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"{content_type or 'no content type'!r} is not an image; send the image bytes as "
            "the body with Content-Type image/* (e.g. image/jpeg)",
            fields=[{"field": "Content-Type", "message": "expected image/*"}],
        )


IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "/match/image",
    response_model=ImageMatchResponse,
    openapi_extra=IMAGE_BODY,
    responses={
        **AUTH_RESPONSES,
        413: {"description": "image too large (bytes or pixels)"},
        415: {"description": "not an image content type"},
        422: {"description": "the bytes are not a decodable image"},
    },
)
async def match_image(
    request: Request,
    platform: PlatformDep,
    worker: IndexDep,
    producer: ProducerDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    upload_ref: str = Query("", max_length=200, description="opaque reference of the upload"),
    max_distance: int = Query(DEFAULT_PDQ_DISTANCE, ge=0, le=DEFAULT_PDQ_DISTANCE),
) -> ImageMatchResponse:
    """Fingerprint an image (PDQ + MD5) in memory and match it against the hash list."""
    _check_content_type(request)
    data = await request.body()
    if len(data) > settings.max_image_bytes:
        metrics.images.labels("too_large").inc()
        raise ApiError(
            413,
            "image_too_large",
            f"image is {len(data)} bytes; at most {settings.max_image_bytes}",
            fields=[{"field": "body", "message": f"at most {settings.max_image_bytes} bytes"}],
        )
    if not data:
        raise ApiError(
            422, "empty_image", "the body is empty", fields=[{"field": "body", "message": "empty"}]
        )
    started = time.perf_counter()
    try:
        prints: ImageFingerprints = await anyio.to_thread.run_sync(
            partial(fingerprint_image, data, max_pixels=settings.max_image_pixels),
            limiter=_limiter(settings.image_workers),
        )
    except ImageRejected as exc:
        metrics.images.labels(exc.reason).inc()
        status = 413 if exc.reason == "image_too_large" else 422
        raise ApiError(
            status, exc.reason, str(exc), fields=[{"field": "body", "message": str(exc)}]
        ) from None
    metrics.image_seconds.observe(time.perf_counter() - started)
    skipped = prints.quality < PDQ_MIN_QUALITY
    metrics.images.labels("low_quality" if skipped else "hashed").inc()
    lookups = [Lookup(SignalType.MD5, prints.md5)]
    if not skipped:
        lookups.append(Lookup(SignalType.PDQ, prints.pdq, max_distance=max_distance))
    found = await run_in_threadpool(run_lookups, worker, metrics, lookups)
    await run_in_threadpool(
        publish_matches,
        producer,
        settings.topic(MATCHES),
        platform.platform_id,
        [(upload_ref, matches) for matches in found],
        settings.publish_timeout_s,
    )
    md5_matches = found[0]
    pdq_matches = found[1] if not skipped else []
    return ImageMatchResponse(
        upload_ref=upload_ref,
        width=prints.width,
        height=prints.height,
        pdq=PdqResult(
            value=prints.pdq,
            quality=prints.quality,
            skipped=skipped,
            matches=[match_read(m) for m in pdq_matches],
        ),
        md5=Md5Result(value=prints.md5, matches=[match_read(m) for m in md5_matches]),
    )
