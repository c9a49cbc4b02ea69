"""Record framing shared by the log files, and a read-only scanner for them.

Every file starts with an 8-byte magic, then records::

    kind: u8 | length: u32 big-endian | payload: length bytes | crc: u32 big-endian

``crc`` is CRC-32 (zlib) over kind, length and payload. It catches torn writes and
bit rot; tampering is caught by the Merkle tree and signed checkpoints, not by it.

The scanner never writes. It stops at the first record it cannot read and says
whether that damage is a *torn tail* (what a crash mid-append leaves: an incomplete
record reaching end of file, or only zero bytes from there on) or *corruption*
(a bad record with more data after it). Storage may truncate the former; the
latter is never "repaired", because that would delete committed entries.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import BinaryIO

HEADER = struct.Struct(">BI")
CRC = struct.Struct(">I")
OVERHEAD = HEADER.size + CRC.size
MAX_PAYLOAD = 16 * 1024 * 1024
ENTRIES_MAGIC = b"HVNLOG1\n"
CHECKPOINTS_MAGIC = b"HVNCKP1\n"
MAGIC_SIZE = 8
_CHUNK = 4 * 1024 * 1024


class RecordKind(IntEnum):
    ENTRY = 1
    COMMIT = 2
    CHECKPOINT = 3


def encode_record(kind: RecordKind, payload: bytes) -> bytes:
    header = HEADER.pack(kind, len(payload))
    return header + payload + CRC.pack(zlib.crc32(payload, zlib.crc32(header)))


@dataclass(frozen=True)
class Record:
    offset: int
    kind: RecordKind
    payload: bytes

    @property
    def end(self) -> int:
        return self.offset + OVERHEAD + len(self.payload)


@dataclass
class ScanEnd:
    """Where a scan stopped: ``offset`` of the first unreadable byte (== file size
    when the whole file read cleanly) and, if it stopped early, why."""

    offset: int = MAGIC_SIZE
    problem: str | None = None
    torn: bool = False


def _all_zero(f: BinaryIO, start: int) -> bool:
    f.seek(start)
    while chunk := f.read(_CHUNK):
        if chunk.count(0) != len(chunk):
            return False
    return True


def scan(f: BinaryIO, magic: bytes, end: ScanEnd, *, start: int = MAGIC_SIZE) -> Iterator[Record]:
    """Yield the good records of ``f`` from ``start``; fill ``end`` when done."""
    f.seek(0, 2)
    size = f.tell()
    f.seek(0)
    if f.read(MAGIC_SIZE) != magic:
        end.offset, end.problem = 0, "bad or missing file magic"
        end.torn = size < MAGIC_SIZE and magic.startswith(_read_all(f))
        return
    pos = start
    buf, buf_pos = b"", pos  # buf holds file bytes from offset buf_pos
    while pos < size:
        rel = pos - buf_pos
        need = HEADER.size
        if len(buf) - rel >= HEADER.size:
            need = OVERHEAD + min(HEADER.unpack_from(buf, rel)[1], MAX_PAYLOAD)
        if len(buf) - rel < need and buf_pos + len(buf) < size:
            f.seek(buf_pos + len(buf))
            buf = buf[rel:] + f.read(max(_CHUNK, need))
            buf_pos = pos
            continue
        problem, record_end = _check(buf, rel)
        if problem is not None:
            end.offset, end.problem = pos, problem
            end.torn = (
                problem.startswith("incomplete")
                or buf_pos + record_end == size
                or _all_zero(f, pos)
            )
            return
        kind, length = HEADER.unpack_from(buf, rel)
        yield Record(pos, RecordKind(kind), buf[rel + HEADER.size : rel + HEADER.size + length])
        pos = buf_pos + record_end
    end.offset = pos


def _check(buf: bytes, rel: int) -> tuple[str | None, int]:
    """Validate the record at ``buf[rel:]``; returns (problem, end of record in buf)."""
    if len(buf) - rel < HEADER.size:
        return "incomplete record header", len(buf)
    kind, length = HEADER.unpack_from(buf, rel)
    stop = rel + OVERHEAD + length
    if kind not in RecordKind._value2member_map_ or length > MAX_PAYLOAD:
        return f"bad record header (kind {kind}, length {length})", -1
    if stop > len(buf):
        return "incomplete record", len(buf)
    body_end = stop - CRC.size
    crc = zlib.crc32(buf[rel + HEADER.size : body_end], zlib.crc32(buf[rel : rel + HEADER.size]))
    if CRC.unpack_from(buf, body_end)[0] != crc:
        return "record checksum mismatch", stop
    return None, stop


def _read_all(f: BinaryIO) -> bytes:
    f.seek(0)
    return f.read()
