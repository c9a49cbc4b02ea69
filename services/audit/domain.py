"""What one audit entry says about one source message, as plain data.

Pure logic. A DLQ message is recorded by its coordinates and error only: its payload is
already on the log under its original topic, or was unreadable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True)
class SourceMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    headers: dict[str, bytes]


def entry_fields(source: SourceMessage) -> dict[str, Any]:
    """The content of one audit entry for ``source``."""
    fields: dict[str, Any] = {
        "topic": source.topic,
        "partition": source.partition,
        "offset": source.offset,
        "key": source.key.decode(errors="replace") if source.key is not None else None,
        "timestamp_ms": source.timestamp_ms,
    }
    if source.topic.endswith(DLQ_SUFFIX):
        fields["event"] = None
        fields["dead_letter"] = {
            name.removeprefix("haven.dlq."): value.decode(errors="replace")
            for name, value in source.headers.items()
            if name.startswith("haven.dlq.")
        }
        return fields
    try:
        fields["event"] = json.loads(source.value) if source.value is not None else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        fields["event"] = {"unparseable_bytes": len(source.value or b"")}
    return fields
