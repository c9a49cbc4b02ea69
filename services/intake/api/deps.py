"""Typed dependencies of the intake routes: the running parts, Redis-backed guards, and the
per-client checks (rate limit, proof-of-work) every write goes through."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from services.common.app import from_state
from services.common.http import ApiError
from services.intake.adapters.guards import (
    Idempotency,
    RateLimiter,
    client_id,
    client_network,
)
from services.intake.adapters.pow import PowRejected, ProofOfWork
from services.intake.operations import Intake
from services.intake.settings import IntakeSettings

get_intake = from_state("intake", Intake)
get_pow = from_state("pow", ProofOfWork)

IntakeDep = Annotated[Intake, Depends(get_intake)]
PowDep = Annotated[ProofOfWork, Depends(get_pow)]
IdempotencyDep = Annotated[Idempotency, Depends(from_state("idempotency", Idempotency))]


def client_address(request: Request, settings: IntakeSettings) -> str:
    """The TCP peer, or (only if configured) the address our one trusted proxy appended."""
    if settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.client.host if request.client else "unknown"


async def _limit(request: Request, kind: str, limit: int) -> None:
    settings = get_intake(request).settings
    limiter: RateLimiter = request.app.state.rate_limiter
    seed = settings.client_key_seed.get_secret_value().encode()
    network = client_network(client_address(request, settings), ipv6_prefix=settings.ipv6_prefix)
    retry_after = await limiter.hit(kind, client_id(seed, network), limit)
    if retry_after is not None:
        get_intake(request).metrics.rate_limited.labels(kind).inc()
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests; try again in {retry_after} s",
            ("client", f"limit {limit} per {settings.rate_limit_window_s} s"),
            headers={"Retry-After": str(retry_after)},
        )


async def limit_writes(request: Request) -> None:
    """Per-client budget for creates, additions and withdrawals."""
    await _limit(request, "write", get_intake(request).settings.rate_limit_writes_per_minute)


async def limit_reads(request: Request) -> None:
    """Per-client budget for status reads and challenges."""
    await _limit(request, "read", get_intake(request).settings.rate_limit_reads_per_minute)


AltchaHeader = Annotated[
    str | None,
    Header(
        alias="X-Altcha",
        description="base64 of the solved ALTCHA payload {algorithm, challenge, number, salt, "
        "signature} for a challenge from GET /v1/challenge",
    ),
]


async def spend_pow(request: Request, header: str | None) -> None:
    """Accept the request's proof-of-work once, or answer 400 naming X-Altcha."""
    try:
        await get_pow(request).spend(header)
    except PowRejected as exc:
        get_intake(request).metrics.pow_rejected.labels(exc.reason.value).inc()
        raise ApiError(400, exc.reason.value, exc.message, ("X-Altcha", exc.message)) from exc
