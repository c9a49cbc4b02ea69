"""The canonical byte encoding of one audit log entry — the Merkle leaf.

Anyone re-deriving the tree must get the same bytes for the same entry, so the
encoding is fixed here once and decoding refuses anything that is not already in
canonical form.

An entry records one Kafka message that the audit service consumed:

==================== ====================================================================
field                meaning
==================== ====================================================================
``v``                encoding version, the integer ``1``
``topic``            Kafka topic name (string)
``partition``        Kafka partition (integer >= 0)
``offset``           Kafka offset within the partition (integer >= 0)
``key``              the message key decoded as UTF-8 text, or ``null`` for no key
``event``            the message value parsed as JSON (any JSON value; normally an object)
``kafka_timestamp_ms`` the message timestamp, integer milliseconds since the Unix epoch,
                     or ``null`` when Kafka gave none
``appended_at_ms``   when the audit log appended it, integer ms since the Unix epoch
==================== ====================================================================

Canonical bytes = the JSON object with exactly those eight members, serialised as
UTF-8 with:

- object members sorted by key (Unicode code point order), recursively, including
  inside ``event``;
- no insignificant whitespace (separators ``,`` and ``:``);
- strings with non-ASCII characters written literally (UTF-8), and only ``"``,
  ``\\``, and U+0000..U+001F escaped (``\\n``, ``\\t``… or ``\\u00XX`` lower-case hex),
  exactly as Python's ``json.dumps(ensure_ascii=False)`` does;
- integers in plain decimal; floats as Python's shortest round-trip ``repr``
  (NaN and infinities are refused). Events should prefer integers and strings:
  float formatting is the one place other languages' encoders may differ.

Booleans are never accepted where an integer is expected. Example (one line)::

    {"appended_at_ms":1700000000123,"event":{"event_id":"…","type":"CaseOpened"},
     "kafka_timestamp_ms":1700000000000,"key":"case-1","offset":41,"partition":0,
     "topic":"haven.submissions.v1","v":1}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ENCODING_VERSION = 1
_FIELDS = frozenset(
    {
        "v",
        "topic",
        "partition",
        "offset",
        "key",
        "event",
        "kafka_timestamp_ms",
        "appended_at_ms",
    }
)


class EntryError(ValueError):
    """Bytes that are not a canonical entry, or an entry that cannot be encoded."""


def canonical_json(value: Any) -> bytes:
    """Serialise a JSON value the canonical way described in the module docstring."""
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise EntryError(f"value cannot be canonically encoded: {exc}") from exc


def _is_int(value: object) -> bool:
    return type(value) is int


@dataclass(frozen=True)
class Entry:
    """One consumed Kafka message, as recorded in the audit log."""

    topic: str
    partition: int
    offset: int
    key: str | None
    event: Any
    kafka_timestamp_ms: int | None
    appended_at_ms: int

    def __post_init__(self) -> None:
        if not isinstance(self.topic, str) or not self.topic:
            raise EntryError(f"{self.topic!r} is not a topic name")
        for name in ("partition", "offset", "appended_at_ms"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise EntryError(f"{name}={value!r} is not a non-negative integer")
        if self.kafka_timestamp_ms is not None and not _is_int(self.kafka_timestamp_ms):
            raise EntryError(f"kafka_timestamp_ms={self.kafka_timestamp_ms!r} is not an integer")
        if self.key is not None and not isinstance(self.key, str):
            raise EntryError(f"key={self.key!r} is not text")

    def to_json(self) -> dict[str, Any]:
        """The entry as a JSON-ready dict (what the canonical bytes encode)."""
        return {
            "v": ENCODING_VERSION,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "key": self.key,
            "event": self.event,
            "kafka_timestamp_ms": self.kafka_timestamp_ms,
            "appended_at_ms": self.appended_at_ms,
        }

    def encode(self) -> bytes:
        """The canonical bytes: the Merkle leaf for this entry."""
        return canonical_json(self.to_json())

    @classmethod
    def decode(cls, data: bytes) -> Entry:
        """Parse canonical bytes; refuses anything that would not re-encode identically."""
        try:
            obj = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EntryError(f"entry is not UTF-8 JSON: {exc}") from exc
        if not isinstance(obj, dict) or set(obj) != _FIELDS:
            raise EntryError("entry must be an object with exactly the documented members")
        if obj["v"] != ENCODING_VERSION or not _is_int(obj["v"]):
            raise EntryError(f"unknown entry encoding version {obj['v']!r}")
        entry = cls(
            topic=obj["topic"],
            partition=obj["partition"],
            offset=obj["offset"],
            key=obj["key"],
            event=obj["event"],
            kafka_timestamp_ms=obj["kafka_timestamp_ms"],
            appended_at_ms=obj["appended_at_ms"],
        )
        if entry.encode() != data:
            raise EntryError("entry bytes are not in canonical form")
        return entry
