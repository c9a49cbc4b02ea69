"""The matcher's index snapshot round-trips every entry (active and withdrawn, PDQ, MD5 and
vPDQ) and is plain arrays: a pickle planted at its path is never unpickled."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from pathlib import Path

from schemas.events import EntryStatus, HashListEntry
from schemas.signals import SignalType, VpdqFrame
from services.matcher.adapters.snapshot import IndexSnapshot, load_snapshot, save_snapshot
from services.matcher.domain import HashListView

NOW = datetime(2026, 12, 1, tzinfo=UTC)
PDQ = "f" * 16 + "0" * 48
MD5 = "0123456789abcdef" * 2
FRAMES = [VpdqFrame(pdq=f"{i:02x}" * 32, quality=90, timestamp=float(i)) for i in range(3)]


def entry(
    signal: SignalType, value: str, sequence: int, status: EntryStatus, **extra: object
) -> HashListEntry:
    return HashListEntry(
        signal=signal, value=value, status=status, refcount=1, first_seen=NOW,
        last_changed=NOW, sequence=sequence, **extra,
    )  # fmt: skip


def view() -> HashListView:
    v = HashListView()
    v.apply(entry(SignalType.PDQ, PDQ, 1, EntryStatus.ACTIVE))
    v.apply(entry(SignalType.MD5, MD5, 2, EntryStatus.ACTIVE))
    v.apply(entry(SignalType.VPDQ, "ab" * 32, 3, EntryStatus.ACTIVE, frames=FRAMES))
    v.apply(entry(SignalType.MD5, "f" * 32, 4, EntryStatus.WITHDRAWN))
    return v


def test_a_snapshot_restores_what_matches_and_what_was_known(tmp_path: Path) -> None:
    path = tmp_path / "index.npz"
    save_snapshot(path, IndexSnapshot("t.haven.hashlist.v1", {0: 7, 1: 3}, view()))
    loaded = load_snapshot(path, "t.haven.hashlist.v1", {0: 7, 1: 9})
    assert loaded is not None and loaded.positions == {0: 7, 1: 3}
    restored = loaded.view
    restored.end_bulk_load()
    assert [m.sequence for m in restored.match_pdq(PDQ, 31)] == [1]
    assert [m.sequence for m in restored.match_md5(MD5)] == [2]
    assert [m.sequence for m in restored.match_vpdq([(f.pdq, f.quality) for f in FRAMES])] == [3]
    assert restored.match_md5("f" * 32) == [] and restored.known(SignalType.MD5, "f" * 32)
    assert restored.last_sequence == 4


def test_a_snapshot_of_another_history_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "index.npz"
    save_snapshot(path, IndexSnapshot("t.haven.hashlist.v1", {0: 7}, view()))
    assert load_snapshot(path, "other.haven.hashlist.v1", {0: 7}) is None
    assert load_snapshot(path, "t.haven.hashlist.v1", {0: 6}) is None  # topic recreated


class Planted:
    """What a pickle can do on load: here, write a file."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (MARKER.touch, ())


MARKER = Path("/tmp/haven-snapshot-pickle-ran")


def test_a_pickle_planted_at_the_snapshot_path_never_runs(tmp_path: Path) -> None:
    MARKER.unlink(missing_ok=True)
    path = tmp_path / "index.npz"
    path.write_bytes(pickle.dumps((1, Planted())))
    pickle.loads(path.read_bytes())  # noqa: S301 - what the old pickle format did on load
    assert MARKER.exists()
    MARKER.unlink()
    assert load_snapshot(path, "t.haven.hashlist.v1", {0: 7}) is None
    assert not MARKER.exists()
