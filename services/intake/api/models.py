"""Request and response bodies of the intake API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from schemas.signals import Media


class CaseCreate(BaseModel):
    """Fingerprints of the photos and videos to protect. Nothing else is asked for."""

    model_config = ConfigDict(extra="forbid")

    items: list[Media] = Field(
        min_length=1,
        description="one entry per photo (PDQ + quality + MD5) or video (MD5 + vPDQ frames)",
    )


class MediaRead(BaseModel):
    media_id: str
    type: str


class CaseCreated(BaseModel):
    """The new case. The secret is shown only here, once: keep it to check or withdraw."""

    case_number: str = Field(description="human-friendly case number, e.g. HVN-7K3M9-QXA2B")
    secret: str = Field(description="case secret (192 bits); Haven keeps only a slow hash")
    media: list[MediaRead]
