"""An on-disk snapshot of the matcher's index, for fast restarts, in a format that cannot run code.

Rebuilding from ``haven.hashlist.v1`` parses every entry (~28 us each: ~5 min at 10M); a
snapshot holds every entry the index knows with the offset of the next hash-list message of
each partition, so a restart loads it and replays only what came after.

The file is a NumPy ``.npz`` of plain arrays (fixed-width byte strings and integers), read
with ``allow_pickle=False``: whoever can write the data directory can make the matcher match
wrong (it is still checked against the topic, below) but cannot make it run code. A JSON
header (as bytes) holds the format, the topic and the positions.

Correctness does not depend on it: the offsets are taken under the same lock as the index,
and replaying from an older offset is harmless (entries apply idempotently by sequence, and
compaction only drops records superseded by later ones). A snapshot from another topic, or
one ahead of the topic's end (the topic was recreated), or an unreadable file is ignored and
the index is rebuilt from the beginning.

Written on clean shutdown and once the start-up load is complete, to a temporary file that
is fsync'd and renamed over the old one.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.matcher.domain import HashListView, VideoFrames

log = logging.getLogger(__name__)
FORMAT = 2


@dataclass
class IndexSnapshot:
    topic: str
    positions: dict[int, int]  # partition -> offset of the next message to apply
    view: HashListView


def save_snapshot(path: Path, snapshot: IndexSnapshot) -> None:
    keys, sequences, active, counts, frames, qualities = [], [], [], [], [], []
    for key, sequence, is_active, video in snapshot.view.rows():
        keys.append(key.encode())
        sequences.append(sequence)
        active.append(is_active)
        counts.append(len(video) if video else 0)
        for pdq, quality in video or ():
            frames.append(pdq.encode())
            qualities.append(quality)
    header = {
        "format": FORMAT,
        "topic": snapshot.topic,
        "positions": {str(p): o for p, o in snapshot.positions.items()},
        "last_sequence": snapshot.view.last_sequence,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as f:
        np.savez(
            f,
            header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
            keys=np.array(keys, dtype=np.bytes_),
            sequences=np.array(sequences, dtype=np.int64),
            active=np.array(active, dtype=np.bool_),
            frame_counts=np.array(counts, dtype=np.int32),
            frames=np.array(frames, dtype="S64"),
            qualities=np.array(qualities, dtype=np.int16),
        )
        f.flush()
        os.fsync(f.fileno())
    partial.replace(path)


def _rows(arrays: dict[str, np.ndarray]) -> Iterator[tuple[str, int, bool, VideoFrames | None]]:
    frames, qualities = arrays["frames"], arrays["qualities"]
    at = 0
    for key, sequence, active, count in zip(
        arrays["keys"], arrays["sequences"], arrays["active"], arrays["frame_counts"], strict=True
    ):
        video = None
        if count:
            video = [(frames[i].decode(), int(qualities[i])) for i in range(at, at + count)]
            at += int(count)
        yield key.decode(), int(sequence), bool(active), video


def load_snapshot(path: Path, topic: str, end_offsets: dict[int, int]) -> IndexSnapshot | None:
    """The snapshot at ``path`` if it is of ``topic`` and not past its end, else None."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as loaded:
            arrays = {name: loaded[name] for name in loaded.files}
        header = json.loads(arrays["header"].tobytes())
        if header.get("format") != FORMAT:
            return None
        positions = {int(p): int(o) for p, o in header["positions"].items()}
        if header["topic"] != topic or any(
            offset > end_offsets.get(partition, -1) for partition, offset in positions.items()
        ):
            log.warning("index snapshot is not of this topic's history, rebuilding")
            return None
        view = HashListView.restore(_rows(arrays), int(header["last_sequence"]))
    except Exception as exc:  # a torn or foreign file: rebuild from the topic instead
        log.warning("index snapshot unreadable, rebuilding", extra={"error": type(exc).__name__})
        return None
    return IndexSnapshot(topic, positions, view)
