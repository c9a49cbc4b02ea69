"""Durable, append-only files for the audit log, with crash repair at open.

Why this shape: the audit consumer must record each event exactly once even though
Kafka delivers at least once and the process may die at any instant. So the Kafka
positions are stored *in the same append* as the entries they cover: each batch is
written as its entry records followed by one COMMIT record carrying the tree size
and the next offset of every topic/partition in the batch, then fsync'd once. On
restart, whatever follows the last complete COMMIT is a torn batch and is cut off;
the consumer resumes from the committed positions, so nothing is lost or doubled.

Directory layout (all files append-only; see ``records`` for the framing):

- ``entries.log``: magic ``HVNLOG1\\n``, then ENTRY records (payload = canonical
  entry bytes, the Merkle leaf) with a COMMIT record (canonical JSON
  ``{"positions":{"<topic>/<partition>":<next offset>},"size":<tree size>}``)
  closing every batch.
- ``leaves.bin``: the 32-byte RFC 9162 leaf hash of each committed entry, in order.
  Derived data, so proofs need not re-read entries; rebuilt from entries if short.
- ``checkpoints.log``: magic ``HVNCKP1\\n``, then CHECKPOINT records whose payloads
  are signed checkpoint notes.
- ``LOCK``: held with ``flock`` by the single writer.

Nothing here rewrites or deletes a committed record. Repair only truncates a torn
tail; damage anywhere else raises ``CorruptLogError`` and is left for ``verify``.
"""

from __future__ import annotations

import fcntl
import json
import os
from array import array
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from services.audit.log.entry import canonical_json
from services.audit.log.merkle import HASH_SIZE, leaf_hash
from services.audit.log.records import (
    CHECKPOINTS_MAGIC,
    ENTRIES_MAGIC,
    HEADER,
    MAGIC_SIZE,
    RecordKind,
    ScanEnd,
    encode_record,
    scan,
)

ENTRIES_FILE = "entries.log"
LEAVES_FILE = "leaves.bin"
CHECKPOINTS_FILE = "checkpoints.log"
LOCK_FILE = "LOCK"


class TopicPartition(NamedTuple):
    topic: str
    partition: int

    def encode(self) -> str:
        return f"{self.topic}/{self.partition}"

    @classmethod
    def decode(cls, text: str) -> TopicPartition:
        topic, _, partition = text.rpartition("/")
        return cls(topic, int(partition))


class CorruptLogError(RuntimeError):
    """Damage that is not a torn tail; the log refuses to open rather than lose data."""


class LogLockedError(RuntimeError):
    """Another writer holds the log directory."""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _open_append(path: Path, magic: bytes | None) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    if magic is not None and os.fstat(fd).st_size == 0:
        _write_all(fd, magic)
        os.fsync(fd)
    return fd


def encode_commit(size: int, positions: Mapping[TopicPartition, int]) -> bytes:
    return canonical_json(
        {"positions": {tp.encode(): n for tp, n in positions.items()}, "size": size}
    )


def decode_commit(payload: bytes) -> tuple[int, dict[TopicPartition, int]]:
    obj = json.loads(payload)
    return obj["size"], {TopicPartition.decode(k): v for k, v in obj["positions"].items()}


def _checkpoint_size(note: bytes) -> int:
    """Tree size of a stored checkpoint note (its second line), without verifying it."""
    try:
        return int(note.split(b"\n", 2)[1])
    except (IndexError, ValueError):
        return 0


class LogStorage:
    """The single writer of one log directory. Not thread-safe: callers serialise."""

    def __init__(self, directory: Path) -> None:
        """Open (creating if needed) and repair a torn tail; takes the writer lock."""
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.repairs: list[str] = []
        self._offsets = array("Q")  # file offset of each committed entry record
        self._positions: dict[TopicPartition, int] = {}
        self._lock_fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(self._lock_fd)
            raise LogLockedError(f"{directory} is open by another writer") from exc
        self._entries_fd = _open_append(directory / ENTRIES_FILE, ENTRIES_MAGIC)
        self._leaves_fd = _open_append(directory / LEAVES_FILE, None)
        self._checkpoints_fd = _open_append(directory / CHECKPOINTS_FILE, CHECKPOINTS_MAGIC)
        self._fsync_dir()
        self._committed_end = self._recover_entries()
        self._checkpoints = self._recover_checkpoints()
        self._recover_leaves()

    @classmethod
    def open(cls, directory: Path) -> LogStorage:
        """Same as the constructor; reads better at call sites."""
        return cls(directory)

    def _fsync_dir(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _truncate(self, fd: int, name: str, length: int, why: str) -> None:
        size = os.fstat(fd).st_size
        if size > length:
            os.ftruncate(fd, length)
            os.fsync(fd)
            self.repairs.append(f"{name}: truncated {size - length} bytes at {length} ({why})")

    def _recover_entries(self) -> int:
        end, committed_end, pending = ScanEnd(), MAGIC_SIZE, array("Q")
        with (self.directory / ENTRIES_FILE).open("rb") as f:
            for record in scan(f, ENTRIES_MAGIC, end):
                if record.kind is RecordKind.ENTRY:
                    pending.append(record.offset)
                    continue
                if record.kind is not RecordKind.COMMIT:
                    raise CorruptLogError(f"unexpected {record.kind.name} record in entries")
                size, positions = decode_commit(record.payload)
                if size != len(self._offsets) + len(pending):
                    raise CorruptLogError(f"commit at byte {record.offset} claims size {size}")
                self._offsets.extend(pending)
                pending = array("Q")
                self._positions.update(positions)
                committed_end = record.end
        if end.problem is not None and not end.torn:
            raise CorruptLogError(f"{ENTRIES_FILE} byte {end.offset}: {end.problem}")
        stored_leaves = os.fstat(self._leaves_fd).st_size // HASH_SIZE
        if stored_leaves > self.size:  # checked before truncating anything
            raise CorruptLogError(
                f"{LEAVES_FILE} has {stored_leaves} leaf hashes but entries commit only {self.size}"
            )
        why = end.problem or "entries after the last commit"
        self._truncate(self._entries_fd, ENTRIES_FILE, committed_end, why)
        return committed_end

    def _recover_leaves(self) -> None:
        """Leaf hashes are fsync'd before each checkpoint is stored, so only those after
        the last checkpoint can be missing or torn: recompute and compare just those."""
        stored = os.fstat(self._leaves_fd).st_size // HASH_SIZE
        durable = min(stored, _checkpoint_size(self._checkpoints[-1]) if self._checkpoints else 0)
        expected = [leaf_hash(leaf) for leaf in self.read_entries(durable, self.size)]
        have = os.pread(self._leaves_fd, (stored - durable) * HASH_SIZE, durable * HASH_SIZE)
        good = durable
        for i, h in enumerate(expected[: stored - durable]):
            if have[i * HASH_SIZE : (i + 1) * HASH_SIZE] != h:
                break
            good += 1
        self._truncate(self._leaves_fd, LEAVES_FILE, good * HASH_SIZE, "leaf hashes rebuilt")
        if good < self.size:
            _write_all(self._leaves_fd, b"".join(expected[good - durable :]))
            os.fsync(self._leaves_fd)

    def _recover_checkpoints(self) -> list[bytes]:
        end, notes = ScanEnd(), []
        with (self.directory / CHECKPOINTS_FILE).open("rb") as f:
            notes = [r.payload for r in scan(f, CHECKPOINTS_MAGIC, end)]
        if end.problem is not None:
            if not end.torn:
                raise CorruptLogError(f"{CHECKPOINTS_FILE} byte {end.offset}: {end.problem}")
            self._truncate(self._checkpoints_fd, CHECKPOINTS_FILE, end.offset, end.problem)
        return notes

    @property
    def size(self) -> int:
        """Number of committed entries."""
        return len(self._offsets)

    def positions(self) -> dict[TopicPartition, int]:
        """Next Kafka offset to consume for every partition ever committed."""
        return dict(self._positions)

    def append_batch(
        self, leaves: Sequence[bytes], positions: Mapping[TopicPartition, int]
    ) -> list[bytes]:
        """Durably append entries and the positions they advance to; returns leaf hashes.

        One write and one fsync of the entries file (the commit point). The leaf
        hashes are derived data, written now and fsync'd by ``append_checkpoint``;
        after a crash they are recomputed from the entries. When this returns, the
        batch survives a crash.
        """
        chunks, offsets, pos = [], array("Q"), self._committed_end
        for leaf in leaves:
            record = encode_record(RecordKind.ENTRY, leaf)
            offsets.append(pos)
            pos += len(record)
            chunks.append(record)
        size = self.size + len(leaves)
        chunks.append(encode_record(RecordKind.COMMIT, encode_commit(size, positions)))
        data = b"".join(chunks)
        _write_all(self._entries_fd, data)
        os.fdatasync(self._entries_fd)
        hashes = [leaf_hash(leaf) for leaf in leaves]
        _write_all(self._leaves_fd, b"".join(hashes))  # fsync'd before the next checkpoint
        self._committed_end += len(data)
        self._offsets.extend(offsets)
        self._positions.update(positions)
        return hashes

    def read_entries(self, start: int, end: int) -> list[bytes]:
        """Canonical entry bytes for committed indices [start, end)."""
        if not 0 <= start <= end <= self.size:
            raise IndexError(f"entry range [{start}, {end}) is outside 0..{self.size}")
        if start == end:
            return []
        first = self._offsets[start]
        last = self._offsets[end] if end < self.size else self._committed_end
        data = os.pread(self._entries_fd, last - first, first)
        out, rel = [], 0
        while rel < len(data):
            kind, length = HEADER.unpack_from(data, rel)
            if kind == RecordKind.ENTRY:
                out.append(data[rel + HEADER.size : rel + HEADER.size + length])
            rel += HEADER.size + length + 4
        return out[: end - start]

    def read_leaf_hashes(self) -> bytes:
        """All committed leaf hashes, concatenated."""
        return os.pread(self._leaves_fd, self.size * HASH_SIZE, 0)

    def append_checkpoint(self, note: bytes) -> None:
        """Durably store a signed checkpoint note (leaf hashes are synced first)."""
        os.fdatasync(self._leaves_fd)
        _write_all(self._checkpoints_fd, encode_record(RecordKind.CHECKPOINT, note))
        os.fdatasync(self._checkpoints_fd)
        self._checkpoints.append(note)

    def checkpoints(self) -> list[bytes]:
        """Every stored signed checkpoint note, oldest first."""
        return list(self._checkpoints)

    def close(self) -> None:
        for fd in (self._entries_fd, self._leaves_fd, self._checkpoints_fd, self._lock_fd):
            os.close(fd)
