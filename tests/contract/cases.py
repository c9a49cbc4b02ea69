"""Snapshots of one case at several moments, for the contract suites."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from schemas.events import CaseSnapshot
from schemas.signals import ImageMedia
from services.intake import domain

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def image() -> ImageMedia:
    return ImageMedia(pdq=random.randbytes(32).hex(), quality=90, md5=random.randbytes(16).hex())


@dataclass(frozen=True)
class CaseHistory:
    """A case opened with one photo, a second added a minute later, then withdrawn."""

    opened: CaseSnapshot
    added: CaseSnapshot
    withdrawn: CaseSnapshot

    @property
    def number(self) -> str:
        return self.opened.case_number


def case_history() -> CaseHistory:
    _, opened, _ = domain.open_case([image()], now=T0)
    _, added = domain.add_media(opened, [image()], now=T0 + timedelta(minutes=1))
    _, withdrawn = domain.withdraw(added, now=T0 + timedelta(minutes=2))
    return CaseHistory(opened, added, withdrawn)
