"""``GET /v1/feed``: the pull feed, a platform's filtered list in sequence order."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import Annotated

from confluent_kafka import Message
from fastapi import APIRouter, Query, Request, Response

from schemas.events import Channel, DeliveryOutcome
from schemas.topics import DELIVERIES
from services.common.http import ApiError
from services.common.platform_keys import require_platform
from services.distributor.adapters.deliveries import delivery_record
from services.distributor.api.deps import DistributorDep
from services.distributor.feed import InvalidCursor, page_body

log = logging.getLogger(__name__)
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
            fields=[{"field": "limit", "message": f"at most {settings.feed_max_limit}"}],
        )
    try:
        after = distributor.cursors.decode(platform.platform_id, cursor)
    except InvalidCursor as exc:
        raise ApiError(
            400, "invalid_cursor", str(exc), fields=[{"field": "cursor", "message": str(exc)}]
        ) from exc
    page = distributor.view.page(after=after, signals=frozenset(platform.signals), limit=size)
    next_cursor = distributor.cursors.encode(platform.platform_id, page.next_after)
    if page.entries:
        record = delivery_record(
            platform_id=platform.platform_id,
            channel=Channel.PULL,
            first=page.entries[0].sequence,
            last=page.entries[-1].sequence,
            keys=[e.key for e in page.entries],
            outcome=DeliveryOutcome.DELIVERED,
        )
        # Recorded asynchronously: a broker hiccup must not stop platforms pulling the list.
        future = distributor.producer.produce(
            settings.topic(DELIVERIES), platform.platform_id, record
        )
        labels = (platform.platform_id, Channel.PULL.value)
        distributor.metrics.deliveries.labels(*labels).inc()
        distributor.metrics.delivered_entries.labels(*labels).inc(len(page.entries))

        def recorded(done: Future[Message]) -> None:
            if done.exception() is not None:
                log.error("pull delivery not recorded", extra={"platform": labels[0]})

        future.add_done_callback(recorded)
    backlog = distributor.view.backlog(after=page.next_after, signals=frozenset(platform.signals))
    distributor.metrics.backlog.labels(platform.platform_id, Channel.PULL.value).set(backlog)
    return Response(page_body(page, next_cursor=next_cursor), media_type="application/json")
