"""``POST /v1/match/image``: the platform sends an image; Haven fingerprints it and matches.

The body is the raw image (``Content-Type: image/*`` or ``application/octet-stream``), read
into memory by the HTTP shell (which caps every body) and never written anywhere: no
multipart parsing, whose parser spools large parts to temporary files. Decoding and PDQ run
in worker threads, at most ``image_workers`` at once, so big images cannot exhaust memory.

A PDQ of quality below 50 is not a reliable fingerprint (PDQ's own rule): the MD5 is still
matched and the answer says the PDQ lookup was skipped.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from services.common.http import ApiError
from services.matcher import operations
from services.matcher.api.deps import AUTH_RESPONSES, MatcherDep, PlatformDep
from services.matcher.api.models import ImageMatchRead
from services.matcher.lookup import DEFAULT_PDQ_DISTANCE

router = APIRouter(prefix="/v1", tags=["match"])

IMAGE_TYPES = ("image/", "application/octet-stream")


def _check_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not content_type.startswith(IMAGE_TYPES):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"{content_type or 'no content type'!r} is not an image; send the image bytes as the body with Content-Type image/* (e.g. image/jpeg)",
            ("Content-Type", "expected image/*"),
        )


IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "/match/image",
    response_model=ImageMatchRead,
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
    matcher: MatcherDep,
    upload_ref: str = Query("", max_length=200, description="opaque reference of the upload"),
    max_distance: int = Query(DEFAULT_PDQ_DISTANCE, ge=0, le=DEFAULT_PDQ_DISTANCE),
) -> ImageMatchRead:
    """Fingerprint an image (PDQ + MD5) in memory and match it against the hash list."""
    _check_content_type(request)
    data = await request.body()
    settings = matcher.settings
    if len(data) > settings.max_image_bytes:
        matcher.metrics.images.labels("too_large").inc()
        raise ApiError(
            413,
            "image_too_large",
            f"image is {len(data)} bytes; at most {settings.max_image_bytes}",
            ("body", f"at most {settings.max_image_bytes} bytes"),
        )
    if not data:
        raise ApiError(422, "empty_image", "the body is empty", ("body", "empty"))
    return await operations.match_image(
        matcher=matcher,
        data=data,
        upload_ref=upload_ref,
        max_distance=max_distance,
        platform_id=platform.platform_id,
    )
