"""``AuditLog``: the one object the audit service talks to.

It ties durable storage, the in-memory Merkle tree and the checkpoint signer
together and enforces the log's promises: entries are appended exactly once per
Kafka position, every signed checkpoint is consistent with every earlier one, and
proofs are served for any size the log has reached. All methods are thread-safe
(one lock), so FastAPI routes may read while the consumer appends.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from services.audit.log.checkpoint import Checkpoint, open_checkpoint
from services.audit.log.entry import Entry
from services.audit.log.merkle import MerkleTree
from services.audit.log.note import Signer
from services.audit.log.storage import CorruptLogError, LogStorage, TopicPartition


class AuditLog:
    """An append-only, signed Merkle log stored in ``directory``."""

    def __init__(self, directory: Path, *, signer: Signer) -> None:
        """Open the log (creating it if needed); the signer's key name is the origin."""
        self._lock = threading.RLock()
        self._signer = signer
        self.origin = signer.name
        self._storage = LogStorage.open(directory)
        try:
            self._tree = MerkleTree.from_packed(self._storage.read_leaf_hashes())
            self._last_checkpoint: Checkpoint | None = None
            notes = self._storage.checkpoints()
            if notes:
                last = open_checkpoint(notes[-1], [signer.verifier], origin=self.origin)
                cp = last.checkpoint
                if cp.size > self._tree.size or self._tree.root(cp.size) != cp.root_hash:
                    raise CorruptLogError(
                        f"stored entries do not match the last checkpoint (size {cp.size})"
                    )
                self._last_checkpoint = cp
        except BaseException:
            self._storage.close()
            raise

    @property
    def repairs(self) -> list[str]:
        """What start-up repair truncated (torn tails), for logging."""
        return list(self._storage.repairs)

    @property
    def size(self) -> int:
        with self._lock:
            return self._tree.size

    def root(self, size: int | None = None) -> bytes:
        """RFC 9162 root hash at ``size`` (default: current size)."""
        with self._lock:
            return self._tree.root(size)

    def positions(self) -> dict[TopicPartition, int]:
        """Next offset to consume per topic/partition; seek the consumer here at start."""
        with self._lock:
            return self._storage.positions()

    def append(
        self,
        entries: Sequence[Entry],
        positions: Mapping[TopicPartition, int] | None = None,
    ) -> range:
        """Durably append a batch (one fsync); returns the indices given to new entries.

        Entries whose offset is below the committed position of their partition are
        already in the log (Kafka redelivery) and are skipped. ``positions`` defaults
        to one past the highest offset per partition in the batch; pass it to also
        advance past messages that were consumed but not logged. Offsets must
        increase within a partition.
        """
        with self._lock:
            committed = self._storage.positions()
            derived: dict[TopicPartition, int] = {}
            fresh: list[Entry] = []
            for entry in entries:
                tp = TopicPartition(entry.topic, entry.partition)
                if entry.offset < committed.get(tp, 0):
                    continue
                if entry.offset < derived.get(tp, 0):
                    raise ValueError(f"offset {entry.offset} of {tp.encode()} goes backwards")
                derived[tp] = entry.offset + 1
                fresh.append(entry)
            for tp, next_offset in (positions or {}).items():
                if next_offset < max(derived.get(tp, 0), committed.get(tp, 0)):
                    raise ValueError(f"position {next_offset} for {tp.encode()} is behind")
                derived[tp] = next_offset
            if not derived:
                return range(self._tree.size, self._tree.size)
            start = self._tree.size
            hashes = self._storage.append_batch([e.encode() for e in fresh], derived)
            for h in hashes:
                self._tree.append(h)
            return range(start, self._tree.size)

    def sign_checkpoint(self) -> bytes:
        """Sign, store and return a checkpoint note for the current size.

        If nothing was appended since the last checkpoint, that one is returned.
        """
        with self._lock:
            last = self._last_checkpoint
            size = self._tree.size
            if last is not None and last.size == size:
                return self._storage.checkpoints()[-1]
            if last is not None and self._tree.root(last.size) != last.root_hash:
                raise CorruptLogError("tree no longer matches the last checkpoint; refusing")
            checkpoint = Checkpoint(self.origin, size, self._tree.root(size))
            note = checkpoint.sign(self._signer)
            self._storage.append_checkpoint(note)
            self._last_checkpoint = checkpoint
            return note

    def latest_checkpoint(self) -> bytes | None:
        """The most recent signed checkpoint note, if any."""
        with self._lock:
            notes = self._storage.checkpoints()
            return notes[-1] if notes else None

    def checkpoints(self) -> list[bytes]:
        with self._lock:
            return self._storage.checkpoints()

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """Audit path for leaf ``index`` in the tree of ``size`` (RFC 9162 §2.1.3)."""
        with self._lock:
            return self._tree.inclusion_proof(index, size)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """Proof that the tree of ``old_size`` is a prefix of ``new_size`` (§2.1.4)."""
        with self._lock:
            return self._tree.consistency_proof(old_size, new_size)

    def leaf_hash(self, index: int) -> bytes:
        with self._lock:
            return self._tree.leaf_hash(index)

    def entry_bytes(self, start: int, end: int) -> list[bytes]:
        """Canonical bytes (the leaves) of entries [start, end)."""
        with self._lock:
            return self._storage.read_entries(start, end)

    def entries(self, start: int, end: int) -> list[Entry]:
        """Decoded entries [start, end)."""
        return [Entry.decode(data) for data in self.entry_bytes(start, end)]

    def close(self) -> None:
        with self._lock:
            self._storage.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
