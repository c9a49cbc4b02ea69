"""C2SP signed notes (c2sp.org/signed-note) with Ed25519, wire-compatible with Go's
golang.org/x/mod/sumdb/note.

Checkpoints are published as signed notes so that existing transparency tooling
(witnesses, sumdb-style clients) can check Haven's log without Haven-specific code.

Formats:
- note: ``<text ending in \\n>\\n`` then one line per signature,
  ``— <key name> <base64(4-byte big-endian key ID || 64-byte Ed25519 signature)>\\n``
  (the dash is U+2014 EM DASH). The signature covers the text only.
- key ID: ``SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]``.
- verifier key: ``<name>+<8 hex digits key ID>+<base64(0x01 || public key)>``.
- signer key: ``PRIVATE+KEY+<name>+<8 hex digits key ID>+<base64(0x01 || 32-byte seed)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = 0x01
EM_DASH = "\u2014"
MAX_SIGNATURES = 100


class NoteError(ValueError):
    """A note or key string is malformed, or a note's signatures do not verify."""


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_id(name: str, public_key: bytes) -> int:
    """The C2SP key ID of an Ed25519 key: first four bytes of the hash, big-endian."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise NoteError(f"{text!r} is not valid base64") from exc


def _parse_key(parts: list[str], what: str) -> tuple[str, int, bytes]:
    if len(parts) != 3:
        raise NoteError(f"{what} must have the form <name>+<hex key id>+<base64 key>")
    name, id_hex, b64 = parts
    if not _valid_name(name) or not re.fullmatch(r"[0-9a-f]{8}", id_hex):
        raise NoteError(f"{what} has a malformed name or key id: {name!r}+{id_hex!r}")
    raw = _b64decode(b64)
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise NoteError(f"{what} is not an Ed25519 key (type byte and 32 bytes)")
    return name, int(id_hex, 16), raw[1:]


class Verifier:
    """Checks signatures of one named Ed25519 key."""

    def __init__(self, name: str, public_key: bytes) -> None:
        if not _valid_name(name):
            raise NoteError(f"{name!r} is not a valid key name (no spaces or '+')")
        self.name = name
        self.public_key = public_key
        self.key_id = key_id(name, public_key)
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    @classmethod
    def from_key(cls, vkey: str) -> Verifier:
        """Parse a verifier key string ``<name>+<hex id>+<base64(0x01||pubkey)>``."""
        name, kid, pub = _parse_key(vkey.split("+", 2), "verifier key")
        verifier = cls(name, pub)
        if verifier.key_id != kid:
            raise NoteError(f"verifier key {vkey!r} has a key id that does not match its key")
        return verifier

    @property
    def key(self) -> str:
        """The verifier key string to publish."""
        b64 = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{b64}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, text)
        except InvalidSignature:
            return False
        return True


class Signer:
    """Signs notes with one named Ed25519 key."""

    def __init__(self, name: str, seed: bytes) -> None:
        if len(seed) != 32:
            raise NoteError("an Ed25519 seed is 32 bytes")
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self._seed = seed
        public = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = Verifier(name, public)
        self.name = name
        self.key_id = self.verifier.key_id

    @classmethod
    def generate(cls, name: str) -> Signer:
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(name, seed)

    @classmethod
    def from_key(cls, skey: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01||seed)>``."""
        prefix = "PRIVATE+KEY+"
        if not skey.startswith(prefix):
            raise NoteError("signer key must start with PRIVATE+KEY+")
        name, kid, seed = _parse_key(skey.removeprefix(prefix).split("+", 2), "signer key")
        signer = cls(name, seed)
        if signer.key_id != kid:
            raise NoteError("signer key has a key id that does not match its key")
        return signer

    @property
    def key(self) -> str:
        """The private signer key string (keep secret)."""
        b64 = base64.b64encode(bytes([ALG_ED25519]) + self._seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{b64}"

    def sign(self, text: bytes) -> bytes:
        return self._private.sign(text)


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, key ID and the raw signature bytes."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        b64 = base64.b64encode(self.key_id.to_bytes(4, "big") + self.signature).decode()
        return f"{EM_DASH} {self.name} {b64}\n"


@dataclass(frozen=True)
class Note:
    """An opened note: its text and the signatures that verified / were unknown."""

    text: str
    signatures: tuple[Signature, ...]
    unverified: tuple[Signature, ...] = field(default=())


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("note text must not contain control characters other than newline")


def sign(text: str, *signers: Signer) -> bytes:
    """Sign ``text`` with each signer and return the encoded note (UTF-8 bytes)."""
    _check_text(text)
    if not signers:
        raise NoteError("a note needs at least one signer")
    raw = text.encode()
    sigs = "".join(Signature(s.name, s.key_id, s.sign(raw)).line() for s in signers)
    return (text + "\n" + sigs).encode()


def open_note(message: bytes, verifiers: Iterable[Verifier]) -> Note:
    """Parse and verify a signed note.

    Signatures by keys not in ``verifiers`` are kept as unverified; a signature by a
    known key that fails to verify rejects the whole note, as does a note with no
    verified signature (C2SP signed-note §Signatures).
    """
    try:
        decoded = message.decode()
    except UnicodeDecodeError as exc:
        raise NoteError("note is not valid UTF-8") from exc
    if any(ord(c) < 0x20 and c != "\n" for c in decoded):
        raise NoteError("note contains control characters")
    split = decoded.rfind("\n\n")
    if split < 0 or not decoded.endswith("\n"):
        raise NoteError("note has no signature block")
    text, block = decoded[: split + 1], decoded[split + 2 :]
    lines = block.split("\n")[:-1]
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signatures; expected 1..{MAX_SIGNATURES}")
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[Signature] = []
    unverified: list[Signature] = []
    for line in lines:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != EM_DASH or not _valid_name(parts[1]):
            raise NoteError(f"malformed signature line {line!r}")
        raw = _b64decode(parts[2])
        if len(raw) < 5:
            raise NoteError(f"signature in {line!r} is too short")
        sig = Signature(parts[1], int.from_bytes(raw[:4], "big"), raw[4:])
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            unverified.append(sig)
        elif verifier.verify(text.encode(), sig.signature):
            verified.append(sig)
        else:
            raise NoteError(f"invalid signature for key {sig.name}+{sig.key_id:08x}")
    if not verified:
        raise NoteError("note has no verifiable signatures")
    return Note(text=text, signatures=tuple(verified), unverified=tuple(unverified))
