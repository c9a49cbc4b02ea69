"""Request and response bodies of the intake API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.signals import Media


class CaseCreate(BaseModel):
    """Fingerprints of the photos and videos to protect. Nothing else is asked for."""

    model_config = ConfigDict(extra="forbid")

    items: list[Media] = Field(
        min_length=1,
        description="one entry per photo (PDQ + quality + MD5) or video (MD5 + vPDQ frames)",
    )


class MediaCreate(CaseCreate):
    """More photos or videos for an open case."""


class MediaRead(BaseModel):
    media_id: str
    type: str


class CaseCreatedRead(BaseModel):
    """The new case. The secret is shown only here, once: keep it to check or withdraw."""

    case_number: str = Field(description="human-friendly case number, e.g. HVN-7K3M9-QXA2B")
    secret: str = Field(description="case secret (192 bits); Haven keeps only a slow hash")
    media: list[MediaRead]


class MediaAddedRead(BaseModel):
    """The items just added (only those)."""

    case_number: str
    media: list[MediaRead]


class ActionCountsRead(BaseModel):
    """How many distinct platforms' latest report on these fingerprints is each action."""

    blocked: int = 0
    removed: int = 0
    not_violating: int = 0
    under_review: int = 0


class ReachRead(BaseModel):
    shared_with: int = Field(description="distinct platforms the fingerprints were delivered to")
    matched_on: int = Field(description="distinct platforms where an upload matched")
    actions: ActionCountsRead


class MediaStatusRead(ReachRead):
    media_id: str
    type: str


class CaseRead(BaseModel):
    """What happened to a case: per item and in total (distinct platforms)."""

    case_number: str
    status: Literal["open", "withdrawn"]
    opened_at: datetime
    updated_at: datetime
    totals: ReachRead
    media: list[MediaStatusRead]


class CaseWithdrawnRead(BaseModel):
    case_number: str
    status: Literal["withdrawn"] = "withdrawn"


class PowChallenge(BaseModel):
    """An ALTCHA challenge: find ``number`` ≤ maxnumber with SHA-256(salt + number) = challenge."""

    algorithm: Literal["SHA-256"]
    challenge: str
    maxnumber: int
    salt: str
    signature: str
