"""Canonical entry encoding: exact bytes, strict decoding."""

from __future__ import annotations

import pytest

from services.audit.log.entry import Entry, EntryError

ENTRY = Entry(
    topic="haven.submissions.v1",
    partition=2,
    offset=41,
    key="case-1",
    event={"type": "CaseOpened", "b": [1, "é", None, True], "a": {"z": 1, "y": 2}},
    kafka_timestamp_ms=1700000000000,
    appended_at_ms=1700000000123,
)
CANONICAL = (
    '{"appended_at_ms":1700000000123,"event":{"a":{"y":2,"z":1},"b":[1,"é",null,true],'
    '"type":"CaseOpened"},"kafka_timestamp_ms":1700000000000,"key":"case-1","offset":41,'
    '"partition":2,"topic":"haven.submissions.v1","v":1}'
).encode()


def test_canonical_bytes_are_exact() -> None:
    assert ENTRY.encode() == CANONICAL
    assert Entry.decode(CANONICAL) == ENTRY


@pytest.mark.parametrize(
    "data",
    [
        CANONICAL.replace(b":41,", b": 41,"),  # whitespace
        CANONICAL.replace("é".encode(), b"\\u00e9"),  # escaped non-ASCII
        CANONICAL.replace(b'"v":1', b'"v":2'),
        CANONICAL.replace(b'"offset":41', b'"offset":true'),
        CANONICAL.replace(b',"v":1}', b"}"),
        CANONICAL[:-1],
        b"\xff" + CANONICAL,
    ],
)
def test_non_canonical_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(EntryError):
        Entry.decode(data)


def test_bad_field_values_are_refused() -> None:
    with pytest.raises(EntryError):
        Entry("t", -1, 0, None, {}, None, 0)
    with pytest.raises(EntryError):
        Entry("", 0, 0, None, {}, None, 0)
    with pytest.raises(EntryError):
        Entry("t", 0, 0, None, {"x": float("nan")}, None, 0).encode()
