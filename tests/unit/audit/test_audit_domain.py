"""What gets an entry, how a message becomes one, when checkpoints are due; settings rules."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.audit.domain import (
    CheckpointPolicy,
    SourceMessage,
    checkpoint_event_id,
    entry_of,
    is_audited,
)
from services.audit.log.entry import Entry
from services.audit.log.keys import keygen
from services.audit.settings import AuditSettings
from services.audit.worker import load_log_signer
from services.common.settings import InsecureSettings


@pytest.mark.parametrize(
    ("topic", "namespace", "audited"),
    [
        ("haven.submissions.v1", "", True),
        ("haven.platform.acme.v1", "", True),
        ("haven.deadletters.v1", "", True),
        ("haven.webhooks.dlq.v1", "", True),
        ("haven.submissions.v1.dlq", "", False),
        ("haven.audit.checkpoints.v1", "", False),
        ("t1.haven.audit.checkpoints.v1", "t1", False),
        ("t1.haven.matches.v1", "t1", True),
        ("t2.haven.matches.v1", "t1", False),
        ("haven.matches.v1", "t1", False),
        ("other.topic", "", False),
        ("__consumer_offsets", "", False),
    ],
)
def test_which_topics_are_audited(topic: str, namespace: str, audited: bool) -> None:
    assert is_audited(topic, namespace) is audited


def message(value: bytes | None, key: bytes | None = b"case-1") -> SourceMessage:
    return SourceMessage("haven.submissions.v1", 2, 41, key, value, 1_700_000_000_000)


def test_a_json_message_becomes_a_canonical_entry() -> None:
    entry = entry_of(message(b'{"type": "CaseOpened", "n": 1}'), appended_at_ms=5)
    assert entry.event == {"type": "CaseOpened", "n": 1}
    assert (entry.topic, entry.partition, entry.offset, entry.key) == (
        "haven.submissions.v1",
        2,
        41,
        "case-1",
    )
    assert Entry.decode(entry.encode()) == entry


def test_a_poison_message_is_recorded_by_size_and_digest_only() -> None:
    raw = b"\xff\xfe secret-ish bytes"
    entry = entry_of(message(raw), appended_at_ms=5)
    assert entry.event == {
        "unparseable_value": {"bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    }
    assert b"secret-ish" not in entry.encode()


def test_tombstones_and_odd_keys_still_get_entries() -> None:
    entry = entry_of(message(None, key=b"\xffkey"), appended_at_ms=5)
    assert entry.event is None
    assert entry.key == "\ufffdkey"
    assert entry_of(message(b"{}", key=None), appended_at_ms=5).key is None


@pytest.mark.parametrize(
    ("size", "signed", "elapsed", "due"),
    [
        (10, 10, 999.0, False),  # nothing new: never re-signed
        (11, 10, 0.0, False),
        (110, 10, 0.0, True),  # 100 new entries
        (11, 10, 5.0, True),  # waited long enough
        (0, -1, 0.0, False),
    ],
)
def test_checkpoint_policy(size: int, signed: int, elapsed: float, due: bool) -> None:
    policy = CheckpointPolicy(every_entries=100, interval_s=5.0)
    assert policy.due(size=size, signed_size=signed, seconds_since_signed=elapsed) is due


def test_checkpoint_event_ids_are_stable_per_origin_and_size() -> None:
    assert checkpoint_event_id("o", 5) == checkpoint_event_id("o", 5)
    assert checkpoint_event_id("o", 5) != checkpoint_event_id("o", 6)
    assert checkpoint_event_id("o", 5) != checkpoint_event_id("p", 5)


STRONG = "9f2c41d07be85a36c1e4d2b7a0f96e58"  # 32 bytes, 16 distinct characters


def test_signing_key_is_required_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HAVEN_AUDIT_SIGNING_KEY_FILE", raising=False)
    monkeypatch.delenv("HAVEN_SIGNING_KEY_FILE", raising=False)
    with pytest.raises(ValidationError, match="signing_key_file"):
        AuditSettings(env="production", auditor_token=STRONG, kafka_password=STRONG)
    settings = AuditSettings(
        env="production", auditor_token=STRONG, kafka_password=STRONG, signing_key_file=Path("/k")
    )
    assert settings.resolved_signing_key_file == Path("/k")
    assert AuditSettings(env="development").signing_key_file is None


def test_auditor_token_placeholder_is_refused_outside_development() -> None:
    with pytest.raises(InsecureSettings, match="auditor_token must be set"):
        AuditSettings(env="production", kafka_password=STRONG, signing_key_file=Path("/k"))


def test_development_generates_one_key_and_reuses_it(tmp_path: Path) -> None:
    settings = AuditSettings(env="development", data_dir=tmp_path)
    first = load_log_signer(settings)
    assert load_log_signer(settings).key == first.key
    assert settings.resolved_signing_key_file.stat().st_mode & 0o777 == 0o600


def test_origin_must_be_the_key_name(tmp_path: Path) -> None:
    keygen(name="haven.example/audit", path=tmp_path / "k")
    ok = AuditSettings(
        env="development", signing_key_file=tmp_path / "k", origin="haven.example/audit"
    )
    assert load_log_signer(ok).name == "haven.example/audit"
    wrong = AuditSettings(
        env="development", signing_key_file=tmp_path / "k", origin="haven.other/audit"
    )
    with pytest.raises(ValueError, match="origin"):
        load_log_signer(wrong)
