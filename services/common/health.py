"""Liveness and readiness, the same in every service.

``/livez`` never touches a dependency: it answers while the process can serve HTTP.
``/readyz`` answers 503 until every registered check passes (consumer assigned and caught up,
index loaded, …), so orchestrators route traffic only to instances that can answer correctly.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse


class Readiness:
    """Named readiness checks; each is a cheap callable returning True when ready."""

    def __init__(self) -> None:
        self._checks: dict[str, Callable[[], bool]] = {}

    def add(self, name: str, check: Callable[[], bool]) -> None:
        self._checks[name] = check

    def status(self) -> dict[str, bool]:
        results: dict[str, bool] = {}
        for name, check in self._checks.items():
            try:
                results[name] = bool(check())
            except Exception:
                results[name] = False
        return results

    @property
    def ready(self) -> bool:
        return all(self.status().values())


def health_router(readiness: Readiness) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/livez")
    def livez() -> dict[str, str]:
        """Liveness: the process serves HTTP."""
        return {"status": "ok"}

    @router.get("/readyz")
    def readyz() -> JSONResponse:
        """Readiness: 200 once consumers caught up and state is loaded, else 503."""
        checks = readiness.status()
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    return router
