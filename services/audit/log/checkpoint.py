"""C2SP tlog-checkpoint note bodies (c2sp.org/tlog-checkpoint).

A checkpoint is the log's signed statement "after N entries my Merkle root is R".
Its body is three lines — origin, decimal tree size, base64 root hash — plus optional
extension lines; it is then wrapped in a signed note (see ``note``). Keeping the body
in the standard form lets generic witnesses and monitors follow Haven's log.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from services.audit.log.merkle import HASH_SIZE
from services.audit.log.note import Note, NoteError, Signer, Verifier, open_note, sign

_SIZE = re.compile(r"0|[1-9][0-9]*")


class CheckpointError(ValueError):
    """A checkpoint body is malformed or its signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    """One tree head: origin line, tree size, root hash and extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError(f"{self.origin!r} is not a valid checkpoint origin")
        if self.size < 0:
            raise CheckpointError(f"tree size {self.size} is negative")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"root hash must be {HASH_SIZE} bytes")
        if any(not line or "\n" in line for line in self.extensions):
            raise CheckpointError("extension lines must be non-empty single lines")

    def body(self) -> str:
        """The note text: ``<origin>\\n<size>\\n<base64 root>\\n[<extension>\\n...]``."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "".join(line + "\n" for line in [*lines, *self.extensions])

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body (the text of an already opened note)."""
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint body must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError(f"checkpoint body has {len(lines)} lines; needs at least 3")
        origin, size, root = lines[:3]
        if not _SIZE.fullmatch(size):
            raise CheckpointError(f"{size!r} is not a tree size")
        try:
            root_hash = base64.b64decode(root, validate=True)
        except binascii.Error as exc:
            raise CheckpointError(f"{root!r} is not a base64 root hash") from exc
        return cls(origin, int(size), root_hash, tuple(lines[3:]))

    def sign(self, *signers: Signer) -> bytes:
        """The signed note bytes for this checkpoint."""
        return sign(self.body(), *signers)


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint together with the opened note that carried it."""

    checkpoint: Checkpoint
    note: Note


def open_checkpoint(
    message: bytes, verifiers: Iterable[Verifier], *, origin: str | None = None
) -> SignedCheckpoint:
    """Verify a signed checkpoint note and parse its body.

    With ``origin`` given, a checkpoint for another log is refused.
    """
    try:
        note = open_note(message, verifiers)
    except NoteError as exc:
        raise CheckpointError(str(exc)) from exc
    checkpoint = Checkpoint.parse(note.text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return SignedCheckpoint(checkpoint, note)
