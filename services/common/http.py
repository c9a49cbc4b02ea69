"""The HTTP shell every service shares: error bodies, body-size limit, metrics and access log.

Every 4xx body is machine-readable::

    {"error": "validation_failed", "message": "...", "fields": [{"field": "items.0.media.pdq",
     "message": "'xyz' is not a valid PDQ hash: expected 64 hex characters"}]}

The body limit counts the bytes actually read, not the ``Content-Length`` the client claims,
so a chunked upload cannot slip past it. Limits are per route (``body_limits``: path →
bytes), with the service's ``max_body_bytes`` for every other path. A service whose API is
only for authenticated callers (the matcher) passes a ``guard`` over the ``Authorization``
header: a ``/v1/`` request it refuses is answered 401 before a byte of its body is read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.health import Readiness, health_router
from services.common.kafka import DeliveryFailed
from services.common.metrics import CommonMetrics

log = logging.getLogger("haven.http")


class ApiError(Exception):
    """A 4xx the client can act on: a stable ``error`` code, a message, and the fields at
    fault: one as ``(field, problem)``, or several as ``fields``."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        field: tuple[str, str] | None = None,
        *,
        fields: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.fields = fields or []
        if field is not None:
            self.fields.insert(0, {"field": field[0], "message": field[1]})
        self.headers = headers


def error_body(
    error: str, message: str, fields: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {"error": error, "message": message, "fields": fields or []}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    # Drop the discriminator tag pydantic inserts into union locations.
    return ".".join(p for p in parts if p not in ("image", "video", "function-after[check(), str]"))


def _validation_fields(exc: RequestValidationError) -> list[dict[str, str]]:
    fields = []
    for err in exc.errors():
        message = str(err.get("msg", "invalid"))
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        fields.append(
            {
                "field": _field_path(tuple(err.get("loc", ()))) or "body",
                "message": message,
                "type": str(err.get("type", "")),
            }
        )
    return fields


Guard = Callable[[str], bool]


class BodyLimitMiddleware:
    """Answer 413 once a request body exceeds its route's limit in bytes actually received,
    and 401, unread, to a ``/v1/`` request whose ``Authorization`` the guard refuses."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        limits: dict[str, int] | None = None,
        guard: Guard | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.limits = limits or {}
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        path = str(scope.get("path", ""))
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        if self.guard is not None and path.startswith("/v1/") and not self.guard(authorization):
            await _unauthenticated(send)
            return
        limit = self.limits.get(path, self.limit)
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(send, limit)
            return
        # Read the whole body first (bounded by the limit), then replay it to the app: the
        # app never sees a request that is too large, however it was framed.
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await self._reject(send, limit)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _reject(send: Send, limit: int) -> None:
        response = JSONResponse(
            error_body(
                "body_too_large",
                f"request body exceeds {limit} bytes",
                [{"field": "body", "message": f"at most {limit} bytes"}],
            ),
            status_code=413,
        )
        await response({"type": "http"}, _no_receive, send)


async def _unauthenticated(send: Send) -> None:
    body = error_body(
        "unauthenticated",
        "send a valid API key as 'Authorization: Bearer <key>' (the body was not read)",
        [{"field": "Authorization", "message": "missing or invalid"}],
    )
    response = JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


# A dependency is away (Kafka did not acknowledge in time, Redis did not answer): nothing was
# recorded and the same request may simply be retried, so every service answers alike.
UNAVAILABLE: tuple[type[Exception], ...] = (DeliveryFailed, TimeoutError, RedisError)


def install_http_shell(
    app: FastAPI,
    *,
    metrics: CommonMetrics,
    readiness: Readiness,
    max_body_bytes: int,
    body_limits: dict[str, int] | None = None,
    guard: Guard | None = None,
    unavailable: tuple[type[Exception], ...] = (),
) -> None:
    """Error handlers, body limit, metrics/access-log middleware, /livez /readyz /metrics.

    ``unavailable`` adds a service's own "try again shortly" errors to ``UNAVAILABLE``.
    """

    async def dependency_away(request: Request, exc: Exception) -> JSONResponse:
        log.warning("dependency unavailable", extra={"error": type(exc).__name__})
        return JSONResponse(
            error_body("unavailable", "could not record this; please try again"),
            503,
            headers={"Retry-After": "5"},
        )

    for kind in UNAVAILABLE + unavailable:
        app.add_exception_handler(kind, dependency_away)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.error, exc.message, exc.fields), exc.status, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = _validation_fields(exc)
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:3])
        return JSONResponse(error_body("validation_failed", summary, fields), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            404: "not_found",
            405: "method_not_allowed",
            401: "unauthorized",
            403: "forbidden",
        }.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.middleware("http")
    async def observe(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response: Response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = getattr(request.scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - started
            metrics.http_requests.labels(route, request.method, str(status)).inc()
            metrics.http_latency.labels(route, request.method).observe(elapsed)
            # Deliberately no client address, user agent, query string or cookie.
            log.info(
                "request",
                extra={
                    "method": request.method,
                    "route": route,
                    "status": status,
                    "ms": round(elapsed * 1000, 2),
                },
            )

    app.add_middleware(BodyLimitMiddleware, limit=max_body_bytes, limits=body_limits, guard=guard)
    app.include_router(health_router(readiness))

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    def prometheus_metrics() -> Response:
        """Prometheus metrics of this service."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
