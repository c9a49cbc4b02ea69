"""Typed dependencies of the matcher's routes: the calling platform, the index, the producer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from schemas.events import PlatformSnapshot
from services.common.kafka import EventProducer
from services.common.platform_keys import PlatformDirectory, require_platform
from services.matcher.metrics import MatcherMetrics
from services.matcher.settings import MatcherSettings
from services.matcher.worker import IndexWorker


def current_platform(request: Request) -> PlatformSnapshot:
    """The platform whose API key came with the request (401 otherwise)."""
    directory: PlatformDirectory = request.app.state.platforms
    return require_platform(request, directory)


def index_worker(request: Request) -> IndexWorker:
    worker: IndexWorker = request.app.state.index_worker
    return worker


def producer(request: Request) -> EventProducer:
    found: EventProducer = request.app.state.producer
    return found


def settings(request: Request) -> MatcherSettings:
    found: MatcherSettings = request.app.state.settings
    return found


def metrics(request: Request) -> MatcherMetrics:
    found: MatcherMetrics = request.app.state.matcher_metrics
    return found


PlatformDep = Annotated[PlatformSnapshot, Depends(current_platform)]
IndexDep = Annotated[IndexWorker, Depends(index_worker)]
ProducerDep = Annotated[EventProducer, Depends(producer)]
SettingsDep = Annotated[MatcherSettings, Depends(settings)]
MetricsDep = Annotated[MatcherMetrics, Depends(metrics)]

# Declared on every route so OpenAPI documents the 401 and clients know to send a key.
AUTH_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"description": "missing, unknown or expired platform API key"},
}
