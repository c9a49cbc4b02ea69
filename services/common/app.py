"""The FastAPI app every service is: HTTP shell, background workers, producer, readiness.

A service's ``app.py`` builds its settings, metrics and workers and hands them here; the
lifespan starts the workers and, on shutdown (SIGTERM), stops them and flushes the producer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar, cast

from fastapi import APIRouter, FastAPI, Request

from services.common.health import Readiness
from services.common.http import install_http_shell
from services.common.kafka import EventProducer
from services.common.metrics import CommonMetrics
from services.common.runner import Workers
from services.common.settings import ServiceSettings

T = TypeVar("T")


def from_state(name: str, kind: type[T]) -> Callable[[Request], T]:
    """A FastAPI dependency returning ``app.state.<name>`` (set through ``service_app(state=)``),
    typed as ``kind``: ``SettingsDep = Annotated[S, Depends(from_state("settings", S))]``."""

    def dependency(request: Request) -> T:
        return cast(T, getattr(request.app.state, name))

    dependency.__name__ = f"state_{name}"
    return dependency


class ReadyWorker(Protocol):
    """A background worker that also says whether it has caught up."""

    @property
    def ready(self) -> bool: ...

    def run(self) -> None: ...

    def stop(self) -> None: ...


def service_app(
    *,
    title: str,
    settings: ServiceSettings,
    metrics: CommonMetrics,
    producer: EventProducer | None = None,
    workers: dict[str, ReadyWorker] | None = None,
    checks: dict[str, Callable[[], bool]] | None = None,
    routers: list[APIRouter] | None = None,
    state: dict[str, Any] | None = None,
    unavailable: tuple[type[Exception], ...] = (),
    body_limits: dict[str, int] | None = None,
    guard: Callable[[str], bool] | None = None,
) -> FastAPI:
    readiness = Readiness()
    background = Workers()
    for name, worker in (workers or {}).items():
        readiness.add(name, lambda worker=worker: worker.ready)  # type: ignore[misc]
    for name, check in (checks or {}).items():
        readiness.add(name, check)
    # Evaluated at scrape time, so alerts see exactly what /readyz would answer.
    metrics.ready.labels(settings.service_name).set_function(lambda: float(readiness.ready))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for name, worker in (workers or {}).items():
            background.start(name, worker)
        try:
            yield
        finally:
            background.stop()
            if producer is not None:
                producer.close()

    app = FastAPI(title=title, version="1", lifespan=lifespan)
    app.state.settings = settings
    app.state.producer = producer
    for key, value in (state or {}).items():
        setattr(app.state, key, value)
    install_http_shell(
        app,
        metrics=metrics,
        readiness=readiness,
        max_body_bytes=settings.max_body_bytes,
        body_limits=body_limits,
        guard=guard,
        unavailable=unavailable,
    )
    for router in routers or []:
        app.include_router(router)
    return app
