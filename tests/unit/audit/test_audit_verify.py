"""The verifier finds each kind of tampering and names the first bad index."""

from __future__ import annotations

import os
from pathlib import Path

from services.audit.log.checkpoint import Checkpoint
from services.audit.log.merkle import MerkleTree
from services.audit.log.note import Signer
from services.audit.log.records import (
    CHECKPOINTS_MAGIC,
    ENTRIES_MAGIC,
    OVERHEAD,
    Record,
    RecordKind,
    ScanEnd,
    encode_record,
    scan,
)
from services.audit.log.storage import CHECKPOINTS_FILE, ENTRIES_FILE, LEAVES_FILE
from services.audit.log.verify import main, verify_log

ORIGIN = "haven.test/audit"


def _records(path: Path, magic: bytes) -> list[Record]:
    with path.open("rb") as f:
        return list(scan(f, magic, ScanEnd()))


def _rewrite(path: Path, magic: bytes, records: list[Record]) -> None:
    path.write_bytes(magic + b"".join(encode_record(r.kind, r.payload) for r in records))


def _entry_records(log_dir: Path) -> list[Record]:
    return _records(log_dir / ENTRIES_FILE, ENTRIES_MAGIC)


def _entry_position(records: list[Record], index: int) -> int:
    return [i for i, r in enumerate(records) if r.kind is RecordKind.ENTRY][index]


def test_untouched_log_verifies(log_dir: Path, signer: Signer) -> None:
    report = verify_log(log_dir, [signer.verifier], origin=ORIGIN)
    assert report.ok, report.problems
    assert (report.entries, report.checkpoints) == (30, 3)
    assert main([str(log_dir), "--key", signer.verifier.key, "--origin", ORIGIN]) == 0


def test_flipped_byte_in_an_entry(log_dir: Path, signer: Signer) -> None:
    records = _entry_records(log_dir)
    record = records[_entry_position(records, 13)]
    path = log_dir / ENTRIES_FILE
    data = bytearray(path.read_bytes())
    data[record.offset + OVERHEAD + 20] ^= 0x01
    path.write_bytes(bytes(data))
    report = verify_log(log_dir, [signer.verifier])
    assert not report.ok and report.first_bad_entry == 13


def test_edited_entry_with_recomputed_checksum(log_dir: Path, signer: Signer) -> None:
    records = _entry_records(log_dir)
    i = _entry_position(records, 13)
    records[i] = Record(
        records[i].offset, records[i].kind, records[i].payload.replace(b"e-13", b"e-99")
    )
    _rewrite(log_dir / ENTRIES_FILE, ENTRIES_MAGIC, records)
    report = verify_log(log_dir, [signer.verifier])
    assert report.first_bad_entry == 13
    (log_dir / LEAVES_FILE).unlink()  # the attacker also drops the leaf-hash cache
    report = verify_log(log_dir, [signer.verifier])
    assert report.first_bad_entry == 10  # root of checkpoint 1 fails: somewhere in [10, 20)
    assert report.first_bad_checkpoint == 1


def test_truncated_entries(log_dir: Path, signer: Signer) -> None:
    records = _entry_records(log_dir)
    cut = records[_entry_position(records, 25)].offset + 7
    os.truncate(log_dir / ENTRIES_FILE, cut)
    report = verify_log(log_dir, [signer.verifier])
    assert not report.ok
    assert report.first_bad_entry == 20  # batch 3 lost its commit record: 20.. are gone
    assert report.first_bad_checkpoint == 2


def test_reordered_entries(log_dir: Path, signer: Signer) -> None:
    records = _entry_records(log_dir)
    a, b = _entry_position(records, 12), _entry_position(records, 15)
    records[a], records[b] = records[b], records[a]
    _rewrite(log_dir / ENTRIES_FILE, ENTRIES_MAGIC, records)
    report = verify_log(log_dir, [signer.verifier])
    assert report.first_bad_entry == 12
    (log_dir / LEAVES_FILE).unlink()
    assert verify_log(log_dir, [signer.verifier]).first_bad_entry == 13  # offsets go back


def test_replaced_checkpoint_other_key(log_dir: Path, signer: Signer) -> None:
    path = log_dir / CHECKPOINTS_FILE
    records = _records(path, CHECKPOINTS_MAGIC)
    forged = Checkpoint(ORIGIN, 20, b"\0" * 32).sign(Signer.generate(ORIGIN))
    records[1] = Record(0, RecordKind.CHECKPOINT, forged)
    _rewrite(path, CHECKPOINTS_MAGIC, records)
    report = verify_log(log_dir, [signer.verifier])
    assert report.first_bad_checkpoint == 1 and report.first_bad_entry is None


def test_replaced_checkpoint_wrong_root_with_real_key(log_dir: Path, signer: Signer) -> None:
    path = log_dir / CHECKPOINTS_FILE
    records = _records(path, CHECKPOINTS_MAGIC)
    leaves = (log_dir / LEAVES_FILE).read_bytes()
    wrong = MerkleTree.from_packed(leaves[: 19 * 32]).root()
    records[1] = Record(0, RecordKind.CHECKPOINT, Checkpoint(ORIGIN, 20, wrong).sign(signer))
    _rewrite(path, CHECKPOINTS_MAGIC, records)
    report = verify_log(log_dir, [signer.verifier])
    assert report.first_bad_checkpoint == 1 and report.first_bad_entry == 10


def test_checkpoint_going_backwards(log_dir: Path, signer: Signer) -> None:
    path = log_dir / CHECKPOINTS_FILE
    records = _records(path, CHECKPOINTS_MAGIC)
    records.append(records[0])
    _rewrite(path, CHECKPOINTS_MAGIC, records)
    assert verify_log(log_dir, [signer.verifier]).first_bad_checkpoint == 3
