"""Storage: batching, positions stored with entries, torn-tail repair, no silent loss."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.audit.log.entry import Entry
from services.audit.log.merkle import leaf_hash
from services.audit.log.storage import (
    CHECKPOINTS_FILE,
    ENTRIES_FILE,
    LEAVES_FILE,
    CorruptLogError,
    LogLockedError,
    LogStorage,
    TopicPartition,
)

TP = TopicPartition("haven.submissions.v1", 0)


def _leaves(start: int, n: int) -> list[bytes]:
    return [
        Entry(TP.topic, TP.partition, i, f"case-{i}", {"event_id": f"e-{i}"}, i, i).encode()
        for i in range(start, start + n)
    ]


def test_append_read_and_reopen(tmp_path: Path) -> None:
    store = LogStorage.open(tmp_path)
    assert store.size == 0 and store.positions() == {}
    hashes = store.append_batch(_leaves(0, 5), {TP: 5})
    store.append_batch(_leaves(5, 3), {TP: 8, TopicPartition("haven.matches.v1", 3): 12})
    assert hashes == [leaf_hash(x) for x in _leaves(0, 5)]
    assert store.read_entries(0, 8) == _leaves(0, 8)
    assert store.read_entries(3, 6) == _leaves(3, 3)
    with pytest.raises(LogLockedError):
        LogStorage.open(tmp_path)
    with pytest.raises(IndexError):
        store.read_entries(0, 9)
    store.close()
    again = LogStorage.open(tmp_path)
    assert again.size == 8 and again.repairs == []
    assert again.positions() == {TP: 8, TopicPartition("haven.matches.v1", 3): 12}
    assert again.read_leaf_hashes() == b"".join(leaf_hash(x) for x in _leaves(0, 8))
    again.close()


@pytest.mark.parametrize("cut", [1, 7, 30, 200])
def test_torn_last_batch_is_truncated_with_its_positions(tmp_path: Path, cut: int) -> None:
    store = LogStorage.open(tmp_path)
    store.append_batch(_leaves(0, 4), {TP: 4})
    good_size = (tmp_path / ENTRIES_FILE).stat().st_size
    store.append_batch(_leaves(4, 4), {TP: 8})
    store.close()
    path = tmp_path / ENTRIES_FILE
    os.truncate(path, path.stat().st_size - cut)  # crash mid-write of batch 2, which
    os.truncate(tmp_path / LEAVES_FILE, 4 * 32)  # is before its leaf hashes are written
    reopened = LogStorage.open(tmp_path)
    assert reopened.size == 4 and reopened.positions() == {TP: 4}
    assert path.stat().st_size == good_size
    assert reopened.repairs
    reopened.append_batch(_leaves(4, 4), {TP: 8})  # the consumer replays from offset 4
    assert reopened.read_entries(0, 8) == _leaves(0, 8)
    reopened.close()


def test_lost_committed_entries_are_refused(tmp_path: Path) -> None:
    store = LogStorage.open(tmp_path)
    store.append_batch(_leaves(0, 4), {TP: 4})
    store.append_batch(_leaves(4, 4), {TP: 8})
    store.close()
    path = tmp_path / ENTRIES_FILE
    os.truncate(path, path.stat().st_size - 9)
    size = path.stat().st_size
    with pytest.raises(CorruptLogError, match="leaf hashes"):
        LogStorage.open(tmp_path)
    assert path.stat().st_size == size  # refused before truncating anything


def test_zero_filled_tail_is_torn(tmp_path: Path) -> None:
    store = LogStorage.open(tmp_path)
    store.append_batch(_leaves(0, 2), {TP: 2})
    store.close()
    with (tmp_path / ENTRIES_FILE).open("ab") as f:
        f.write(b"\0" * 4096)
    assert LogStorage.open(tmp_path).size == 2


def test_missing_leaf_hashes_are_rebuilt(tmp_path: Path) -> None:
    store = LogStorage.open(tmp_path)
    store.append_batch(_leaves(0, 6), {TP: 6})
    store.close()
    os.truncate(tmp_path / LEAVES_FILE, 3 * 32 + 5)
    again = LogStorage.open(tmp_path)
    assert again.read_leaf_hashes() == b"".join(leaf_hash(x) for x in _leaves(0, 6))
    again.close()


def test_corruption_before_committed_data_is_refused_not_truncated(tmp_path: Path) -> None:
    store = LogStorage.open(tmp_path)
    store.append_batch(_leaves(0, 3), {TP: 3})
    store.append_batch(_leaves(3, 3), {TP: 6})
    store.close()
    path = tmp_path / ENTRIES_FILE
    data = bytearray(path.read_bytes())
    data[40] ^= 0xFF  # inside the first entry
    path.write_bytes(bytes(data))
    size = path.stat().st_size
    with pytest.raises(CorruptLogError):
        LogStorage.open(tmp_path)
    assert path.stat().st_size == size


def test_checkpoints_are_appended_and_torn_one_dropped(tmp_path: Path) -> None:
    store = LogStorage.open(tmp_path)
    store.append_checkpoint(b"o\n0\nx\n\n- sig\n")
    store.append_checkpoint(b"o\n0\ny\n\n- sig\n")
    store.close()
    os.truncate(tmp_path / CHECKPOINTS_FILE, (tmp_path / CHECKPOINTS_FILE).stat().st_size - 3)
    again = LogStorage.open(tmp_path)
    assert again.checkpoints() == [b"o\n0\nx\n\n- sig\n"]
    again.close()
