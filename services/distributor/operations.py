"""What the distributor's routes do, as keyword-only functions over its running parts.

Routes parse a request and shape the answer; the work between (paging the view, recording
the delivery on Kafka, updating the metrics) lives here, as the FastAPI template keeps it in
``crud``, so that it can be called and tested without HTTP.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

from confluent_kafka import Message

from schemas.events import Channel, DeliveryOutcome, PlatformSnapshot
from schemas.platform_keys import PlatformDirectory
from schemas.topics import DELIVERIES
from services.common.kafka import EventProducer
from services.distributor.adapters.deliveries import delivery_record
from services.distributor.adapters.fanout import FanOutWorker
from services.distributor.domain.feed import CursorCodec, page_body
from services.distributor.domain.view import HashListView
from services.distributor.metrics import DistributorMetrics
from services.distributor.settings import DistributorSettings

log = logging.getLogger(__name__)


@dataclass
class Distributor:
    """The running parts the routes work with (built by ``app.create_app``)."""

    settings: DistributorSettings
    producer: EventProducer
    directory: PlatformDirectory
    view: HashListView
    cursors: CursorCodec
    fanout: FanOutWorker
    metrics: DistributorMetrics
    registry_lock: threading.Lock = field(default_factory=threading.Lock)


def pull_page(
    *, distributor: Distributor, platform: PlatformSnapshot, after: int, limit: int
) -> bytes:
    """The feed page after sequence ``after`` for ``platform``, as JSON; records the delivery.

    The record is sent without waiting for the broker: a Kafka hiccup must not stop platforms
    pulling the list (the next page's record carries the position on).
    """
    signals = frozenset(platform.signals)
    page = distributor.view.page(after=after, signals=signals, limit=limit)
    next_cursor = distributor.cursors.encode(platform.platform_id, page.next_after)
    labels = (platform.platform_id, Channel.PULL.value)
    if page.entries:
        record = delivery_record(
            platform.platform_id, Channel.PULL, page.entries, DeliveryOutcome.DELIVERED
        )
        future = distributor.producer.produce(
            distributor.settings.topic(DELIVERIES), platform.platform_id, record
        )

        def recorded(done: Future[Message]) -> None:
            if done.exception() is not None:
                log.error("pull delivery not recorded", extra={"platform": labels[0]})

        future.add_done_callback(recorded)
        distributor.metrics.deliveries.labels(*labels).inc()
        distributor.metrics.delivered_entries.labels(*labels).inc(len(page.entries))
    backlog = distributor.view.backlog(after=page.next_after, signals=signals)
    distributor.metrics.backlog.labels(*labels).set(backlog)
    return page_body(page, next_cursor=next_cursor)
