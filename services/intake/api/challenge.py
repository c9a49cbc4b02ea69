"""The proof-of-work challenge a client solves before opening a case or adding media."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from services.intake.api.deps import PowDep, limit_reads
from services.intake.api.models import PowChallenge

router = APIRouter(prefix="/v1", tags=["proof-of-work"])


@router.get("/challenge", response_model=PowChallenge, dependencies=[Depends(limit_reads)])
async def get_challenge(pow_: PowDep, response: Response) -> PowChallenge:
    """A fresh ALTCHA challenge (SHA-256, signed, expiring)."""
    response.headers["Cache-Control"] = "no-store"
    return PowChallenge.model_validate(pow_.challenge())
