"""``GET /v1/feed``: the pull feed, a platform's filtered list in sequence order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.common.http import ApiError
from services.common.platform_keys import require_platform
from services.distributor.api.deps import DistributorDep
from services.distributor.domain.feed import InvalidCursor
from services.distributor.operations import pull_page

router = APIRouter(tags=["feed"])


@router.get(
    "/v1/feed",
    responses={
        200: {
            "description": "entries (sequence, signal, value, status, frames), next_cursor, "
            "has_more"
        }
    },
)
def feed(
    request: Request,
    distributor: DistributorDep,
    cursor: Annotated[str, Query(max_length=200, description="opaque; empty = full sync")] = "",
    limit: Annotated[int | None, Query(ge=1, description="entries per page")] = None,
) -> Response:
    """A page of the hash list after ``cursor``, filtered by the platform's signals."""
    platform = require_platform(request, distributor.directory)
    settings = distributor.settings
    size = limit or settings.feed_default_limit
    if size > settings.feed_max_limit:
        raise ApiError(
            400,
            "invalid_limit",
            f"limit {size} is above the maximum of {settings.feed_max_limit}",
            ("limit", f"at most {settings.feed_max_limit}"),
        )
    try:
        after = distributor.cursors.decode(platform.platform_id, cursor)
    except InvalidCursor as exc:
        raise ApiError(400, "invalid_cursor", str(exc), ("cursor", str(exc))) from exc
    body = pull_page(distributor=distributor, platform=platform, after=after, limit=size)
    return Response(body, media_type="application/json")
