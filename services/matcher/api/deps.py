"""Typed dependencies of the matcher's routes: the calling platform and the running parts."""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import Depends, Request

from schemas.events import PlatformSnapshot
from schemas.platform_keys import PlatformDirectory
from services.common.app import from_state
from services.common.http import ApiError
from services.common.platform_keys import require_platform
from services.matcher.operations import Matcher


def current_platform(request: Request) -> PlatformSnapshot:
    """The platform whose API key came with the request (401 otherwise), within its request
    budget (429 otherwise)."""
    directory: PlatformDirectory = request.app.state.platforms
    platform = require_platform(request, directory)
    matcher: Matcher = request.app.state.matcher
    wait = matcher.budget.spend(platform.platform_id, time.time())
    if wait is not None:
        limit = matcher.settings.platform_requests_per_minute
        raise ApiError(
            429,
            "rate_limited",
            f"at most {limit} requests per minute per platform; try again in {math.ceil(wait)} s",
            ("Authorization", "this platform's request budget is spent"),
            headers={"Retry-After": str(math.ceil(wait))},
        )
    return platform


PlatformDep = Annotated[PlatformSnapshot, Depends(current_platform)]
MatcherDep = Annotated[Matcher, Depends(from_state("matcher", Matcher))]

# Declared on every route so OpenAPI documents the 401 and clients know to send a key.
AUTH_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"description": "missing, unknown or expired platform API key"},
    429: {"description": "the platform's request budget for this minute is spent"},
}
