"""Fixtures for the audit log tests: a signer and a small populated log directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from services.audit.log.entry import Entry
from services.audit.log.note import Signer
from services.audit.log.tlog import AuditLog

ORIGIN = "haven.test/audit"


def _make_entry(offset: int, *, partition: int = 0, topic: str = "haven.submissions.v1") -> Entry:
    return Entry(
        topic=topic,
        partition=partition,
        offset=offset,
        key=f"case-{offset}",
        event={"event_id": f"e-{offset}", "type": "CaseOpened", "note": "ünïcode"},
        kafka_timestamp_ms=1_700_000_000_000 + offset,
        appended_at_ms=1_700_000_000_500 + offset,
    )


@pytest.fixture
def make_entry() -> Callable[..., Entry]:
    """Factory: ``make_entry(offset, partition=0, topic=...)`` builds a realistic entry."""
    return _make_entry


@pytest.fixture
def signer() -> Signer:
    return Signer.generate(ORIGIN)


@pytest.fixture
def log_dir(tmp_path: Path, signer: Signer) -> Iterator[Path]:
    """A closed log with 3 batches of 10 entries and a checkpoint after each batch."""
    directory = tmp_path / "log"
    with AuditLog(directory, signer=signer) as log:
        for batch in range(3):
            log.append([_make_entry(batch * 10 + i) for i in range(10)])
            log.sign_checkpoint()
    yield directory
