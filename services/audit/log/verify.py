"""Independent, read-only verification of a whole log directory.

An overseer who copies a log directory should not have to trust the service that
wrote it. This module re-reads every record, re-derives every leaf hash and the
Merkle tree from the entries alone, and checks every stored checkpoint: its
signature (against verifier keys given by the caller, not read from the
directory), its root against the recomputed tree, and its consistency with the
previous checkpoint. It reports the first bad entry index and/or checkpoint index.

Run: ``python -m services.audit.log.verify DIR --key '<verifier key>' [--origin O]``;
prints a JSON report and exits 1 if anything is wrong. It never writes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from services.audit.log.checkpoint import CheckpointError, open_checkpoint
from services.audit.log.entry import Entry, EntryError
from services.audit.log.merkle import HASH_SIZE, MerkleTree, leaf_hash, verify_consistency
from services.audit.log.note import Verifier
from services.audit.log.records import (
    CHECKPOINTS_MAGIC,
    ENTRIES_MAGIC,
    RecordKind,
    ScanEnd,
    scan,
)
from services.audit.log.storage import (
    CHECKPOINTS_FILE,
    ENTRIES_FILE,
    LEAVES_FILE,
    TopicPartition,
    decode_commit,
)


@dataclass(frozen=True)
class Problem:
    """One finding. ``entry_index`` is the first entry it implicates (for a checkpoint
    whose root is wrong, the first entry not covered by an earlier good checkpoint)."""

    message: str
    entry_index: int | None = None
    checkpoint_index: int | None = None


@dataclass
class Report:
    directory: str
    entries: int = 0
    checkpoints: int = 0
    root: bytes = b""
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_entry(self) -> int | None:
        found = [p.entry_index for p in self.problems if p.entry_index is not None]
        return min(found, default=None)

    @property
    def first_bad_checkpoint(self) -> int | None:
        found = [p.checkpoint_index for p in self.problems if p.checkpoint_index is not None]
        return min(found, default=None)

    def to_json(self) -> dict[str, object]:
        return {
            "directory": self.directory,
            "ok": self.ok,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "root": self.root.hex(),
            "first_bad_entry": self.first_bad_entry,
            "first_bad_checkpoint": self.first_bad_checkpoint,
            "problems": [vars(p) for p in self.problems],
            "notes": self.notes,
        }


def _with(tree: MerkleTree, hashes: list[bytes]) -> MerkleTree:
    for h in hashes:
        tree.append(h)
    return tree


def _check_entries(directory: Path, report: Report) -> MerkleTree:
    """Rebuild the tree from entries. Returns the tree of the valid prefix: the committed
    entries, or, if a bad entry was found, every entry before it."""
    tree, pending = MerkleTree(), list[bytes]()
    next_offset: dict[TopicPartition, int] = {}
    stored = (directory / LEAVES_FILE).read_bytes() if (directory / LEAVES_FILE).exists() else b""
    end, index = ScanEnd(), 0
    with (directory / ENTRIES_FILE).open("rb") as f:
        for record in scan(f, ENTRIES_MAGIC, end):
            if record.kind is RecordKind.COMMIT:
                size, positions = decode_commit(record.payload)
                if size != index:
                    report.problems.append(Problem(f"commit claims size {size}", tree.size))
                    return tree
                if any(
                    positions.get(tp, 0) < n for tp, n in next_offset.items() if tp in positions
                ):
                    report.problems.append(Problem("commit position behind its entries", tree.size))
                    return tree
                for h in pending:
                    tree.append(h)
                pending.clear()
                continue
            if record.kind is not RecordKind.ENTRY:
                report.problems.append(Problem(f"stray {record.kind.name} record", index))
                return tree
            try:
                entry = Entry.decode(record.payload)
            except EntryError as exc:
                report.problems.append(Problem(f"entry {index}: {exc}", index))
                return _with(tree, pending)
            tp = TopicPartition(entry.topic, entry.partition)
            if entry.offset < next_offset.get(tp, 0):
                msg = f"entry {index}: offset {entry.offset} of {tp.encode()} is out of order"
                report.problems.append(Problem(msg, index))
                return _with(tree, pending)
            next_offset[tp] = entry.offset + 1
            h = leaf_hash(record.payload)
            if index < len(stored) // HASH_SIZE and stored[index * 32 : index * 32 + 32] != h:
                report.problems.append(Problem(f"entry {index}: differs from its leaf hash", index))
                return _with(tree, pending)
            pending.append(h)
            index += 1
    if end.problem is not None:
        where = f"{ENTRIES_FILE} byte {end.offset}: {end.problem}"
        if end.torn:
            report.notes.append(f"{where} (torn tail after the last commit; not in the log)")
        else:
            report.problems.append(Problem(where, index))
            return _with(tree, pending)
    if pending:
        report.notes.append(f"{len(pending)} entries after the last commit are not in the log")
    if len(stored) // HASH_SIZE > tree.size and report.ok:
        msg = (
            f"{LEAVES_FILE} holds {len(stored) // HASH_SIZE} leaf hashes, entries only {tree.size}"
        )
        report.problems.append(Problem(msg, tree.size))
    return tree


def _check_checkpoints(
    directory: Path,
    tree: MerkleTree,
    verifiers: Sequence[Verifier],
    origin: str | None,
    report: Report,
) -> None:
    report_problems = report.problems
    end, good_size, prev = ScanEnd(), 0, None
    with (directory / CHECKPOINTS_FILE).open("rb") as f:
        records = list(scan(f, CHECKPOINTS_MAGIC, end))
    if end.problem is not None:
        report_problems.append(Problem(f"{CHECKPOINTS_FILE}: {end.problem}", None, len(records)))
    for k, record in enumerate(records):
        try:
            cp = open_checkpoint(record.payload, verifiers, origin=origin).checkpoint
        except (CheckpointError, ValueError) as exc:
            report_problems.append(Problem(f"checkpoint {k}: {exc}", None, k))
            continue
        if cp.size > tree.size:
            msg = f"checkpoint {k} covers {cp.size} entries; only {tree.size} verified"
            report_problems.append(Problem(msg, tree.size, k))
            continue
        if tree.root(cp.size) != cp.root_hash:
            msg = f"checkpoint {k}: root differs from entries in [{good_size}, {cp.size})"
            report_problems.append(Problem(msg, good_size, k))
            continue
        if prev is not None:
            if cp.size < prev.size:
                report_problems.append(Problem(f"checkpoint {k}: tree size went back", None, k))
                continue
            proof = tree.consistency_proof(prev.size, cp.size)
            if not verify_consistency(
                old_size=prev.size,
                new_size=cp.size,
                old_root=prev.root_hash,
                new_root=cp.root_hash,
                proof=proof,
            ):
                report_problems.append(Problem(f"checkpoint {k}: inconsistent", good_size, k))
                continue
        prev, good_size = cp, cp.size
    report.checkpoints = len(records)


def verify_log(
    directory: Path, verifiers: Sequence[Verifier], *, origin: str | None = None
) -> Report:
    """Verify everything in ``directory``; never modifies it."""
    report = Report(directory=str(directory))
    tree = _check_entries(directory, report)
    _check_checkpoints(directory, tree, verifiers, origin, report)
    report.entries, report.root = tree.size, tree.root()
    if report.checkpoints == 0:
        report.notes.append("no checkpoints: entries are self-consistent but unsigned")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--key", action="append", required=True, help="verifier key")
    parser.add_argument("--origin", help="expected checkpoint origin")
    args = parser.parse_args(argv)
    verifiers = [Verifier.from_key(k) for k in args.key]
    report = verify_log(args.directory, verifiers, origin=args.origin)
    json.dump(report.to_json(), sys.stdout, indent=2)
    print()
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
