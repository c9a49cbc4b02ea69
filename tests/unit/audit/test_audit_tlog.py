"""AuditLog: exactly-once appends by Kafka position, checkpoints, proofs across restarts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from services.audit.log.checkpoint import open_checkpoint
from services.audit.log.entry import Entry
from services.audit.log.merkle import verify_consistency, verify_inclusion
from services.audit.log.note import Signer
from services.audit.log.storage import TopicPartition
from services.audit.log.tlog import AuditLog

ORIGIN = "haven.test/audit"
TP0 = TopicPartition("haven.submissions.v1", 0)
TP1 = TopicPartition("haven.submissions.v1", 1)


def test_redelivered_messages_are_logged_once(
    tmp_path: Path, signer: Signer, make_entry: Callable[..., Entry]
) -> None:
    with AuditLog(tmp_path, signer=signer) as log:
        assert log.append([make_entry(i) for i in range(5)]) == range(0, 5)
        assert log.append([make_entry(i) for i in range(3, 8)]) == range(5, 8)
        assert log.append([make_entry(0, partition=1)], {TP1: 4}) == range(8, 9)
        assert log.positions() == {TP0: 8, TP1: 4}
        assert [e.offset for e in log.entries(0, 9)] == [0, 1, 2, 3, 4, 5, 6, 7, 0]
        with pytest.raises(ValueError, match="backwards"):
            log.append([make_entry(9), make_entry(8)])
        with pytest.raises(ValueError, match="behind"):
            log.append([], {TP1: 2})
    with AuditLog(tmp_path, signer=signer) as log:
        assert log.size == 9 and log.positions() == {TP0: 8, TP1: 4}


def test_checkpoints_and_proofs_verify(
    log_dir: Path, signer: Signer, make_entry: Callable[..., Entry]
) -> None:
    with AuditLog(log_dir, signer=signer) as log:
        notes = log.checkpoints()
        assert len(notes) == 3 and log.latest_checkpoint() == notes[-1]
        cps = [open_checkpoint(n, [signer.verifier], origin=ORIGIN).checkpoint for n in notes]
        assert [cp.size for cp in cps] == [10, 20, 30]
        assert log.sign_checkpoint() == notes[-1]  # nothing new: same checkpoint
        for index in (0, 9, 17, 29):
            entry = log.entry_bytes(index, index + 1)[0]
            assert verify_inclusion(
                index=index,
                size=30,
                leaf_hash=log.leaf_hash(index),
                proof=log.inclusion_proof(index, 30),
                root=cps[-1].root_hash,
            )
            assert log.entries(index, index + 1)[0].encode() == entry
        assert verify_consistency(
            old_size=10,
            new_size=30,
            old_root=cps[0].root_hash,
            new_root=cps[2].root_hash,
            proof=log.consistency_proof(10, 30),
        )
        log.append([make_entry(30)])
        latest = open_checkpoint(log.sign_checkpoint(), [signer.verifier]).checkpoint
        assert latest.size == 31 and latest.root_hash == log.root()


def test_a_different_key_cannot_reopen_the_log(log_dir: Path) -> None:
    with pytest.raises(ValueError):
        AuditLog(log_dir, signer=Signer.generate(ORIGIN))
