"""Typed dependencies of the matcher's routes: the calling platform, the index, the producer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from schemas.events import PlatformSnapshot
from schemas.platform_keys import PlatformDirectory
from services.common.app import from_state
from services.common.kafka import EventProducer
from services.common.platform_keys import require_platform
from services.matcher.domain import SharedIndex
from services.matcher.metrics import MatcherMetrics
from services.matcher.settings import MatcherSettings


def current_platform(request: Request) -> PlatformSnapshot:
    """The platform whose API key came with the request (401 otherwise)."""
    directory: PlatformDirectory = request.app.state.platforms
    return require_platform(request, directory)


PlatformDep = Annotated[PlatformSnapshot, Depends(current_platform)]
IndexDep = Annotated[SharedIndex, Depends(from_state("index", SharedIndex))]
ProducerDep = Annotated[EventProducer, Depends(from_state("producer", EventProducer))]
SettingsDep = Annotated[MatcherSettings, Depends(from_state("settings", MatcherSettings))]
MetricsDep = Annotated[MatcherMetrics, Depends(from_state("matcher_metrics", MatcherMetrics))]

# Declared on every route so OpenAPI documents the 401 and clients know to send a key.
AUTH_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"description": "missing, unknown or expired platform API key"},
}
