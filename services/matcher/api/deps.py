"""Typed dependencies of the matcher's routes: the calling platform and the running parts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from schemas.events import PlatformSnapshot
from schemas.platform_keys import PlatformDirectory
from services.common.app import from_state
from services.common.platform_keys import require_platform
from services.matcher.operations import Matcher


def current_platform(request: Request) -> PlatformSnapshot:
    """The platform whose API key came with the request (401 otherwise)."""
    directory: PlatformDirectory = request.app.state.platforms
    return require_platform(request, directory)


PlatformDep = Annotated[PlatformSnapshot, Depends(current_platform)]
MatcherDep = Annotated[Matcher, Depends(from_state("matcher", Matcher))]

# Declared on every route so OpenAPI documents the 401 and clients know to send a key.
AUTH_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"description": "missing, unknown or expired platform API key"},
}
