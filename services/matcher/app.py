"""The matcher service's FastAPI app factory.

Three workers gate ``/readyz``: the index (``haven.hashlist.v1``), the platform directory
(``haven.platforms.v1``), since a matcher that cannot yet recognise platform keys would
answer 401 to a platform that is allowed in, and the delivery positions
(``haven.deliveries.v1``), without which every action report would be refused.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import service_app
from services.common.kafka import EventProducer
from services.common.platform_keys import PlatformDirectoryWorker, token_of
from services.matcher.api import actions, image, match
from services.matcher.domain import PlatformBudget
from services.matcher.metrics import MatcherMetrics
from services.matcher.operations import Matcher
from services.matcher.settings import MatcherSettings
from services.matcher.worker import DeliveryWorker, IndexWorker


def create_app(settings: MatcherSettings | None = None) -> FastAPI:
    settings = settings or MatcherSettings()
    metrics = MatcherMetrics.create()
    producer = EventProducer(settings.kafka, on_delivered=metrics.common.produced_hook)
    index_worker = IndexWorker(settings, metrics, producer)
    delivery_worker = DeliveryWorker(settings, metrics, producer)
    platforms = PlatformDirectoryWorker(settings, producer, metrics.common.consumer_hooks())
    return service_app(
        title="Haven matcher",
        settings=settings,
        metrics=metrics.common,
        producer=producer,
        workers={"index": index_worker, "platforms": platforms, "deliveries": delivery_worker},
        routers=[match.router, image.router, actions.router],
        # Every /v1/ route needs a platform key: checked before the body is read, so an
        # anonymous 15 MB upload costs the matcher one header lookup.
        guard=lambda header: platforms.directory.authenticate(token_of(header)) is not None,
        body_limits={"/v1/match/image": settings.max_image_bytes, "/v1/actions": 16_384},
        state={
            "matcher": Matcher(
                index_worker.index,
                producer,
                settings,
                metrics,
                delivery_worker.deliveries,
                budget=PlatformBudget(settings.platform_requests_per_minute),
            ),
            "platforms": platforms.directory,
        },
    )
