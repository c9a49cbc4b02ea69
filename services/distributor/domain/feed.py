"""The pull feed's opaque cursor and page body (pure logic).

A cursor is ``base64url(version ‖ sequence ‖ tag)``: one version byte, the last delivered
sequence as 8 bytes, and the first 12 bytes of HMAC-SHA256 over version, sequence and the
platform id. It is opaque to platforms, cannot be forged or moved to another platform, and
resumes exactly after the last entry of a page however many entries share a timestamp,
because it names a sequence, not a time. The empty cursor means "from the beginning" (a full
sync). The key is derived from the deployment's webhook key seed, so a cursor stays valid
across restarts and instances.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from services.distributor.domain.view import Page

CURSOR_VERSION = 1
_TAG_BYTES = 12


class InvalidCursor(ValueError):
    """The cursor was not issued by this deployment for this platform."""


class CursorCodec:
    def __init__(self, seed: bytes) -> None:
        self._key = hmac.new(seed, b"haven feed cursor v1", hashlib.sha256).digest()

    def _tag(self, platform_id: str, payload: bytes) -> bytes:
        mac = hmac.new(self._key, payload + platform_id.encode(), hashlib.sha256)
        return mac.digest()[:_TAG_BYTES]

    def encode(self, platform_id: str, sequence: int) -> str:
        payload = bytes([CURSOR_VERSION]) + sequence.to_bytes(8, "big")
        raw = payload + self._tag(platform_id, payload)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def decode(self, platform_id: str, cursor: str | None) -> int:
        """The last delivered sequence the cursor names; 0 for an empty cursor."""
        if not cursor:
            return 0
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError) as exc:
            raise InvalidCursor(f"{cursor[:64]!r} is not a feed cursor (not base64url)") from exc
        if len(raw) != 9 + _TAG_BYTES or raw[0] != CURSOR_VERSION:
            raise InvalidCursor(f"{cursor[:64]!r} is not a feed cursor of this version")
        payload, tag = raw[:9], raw[9:]
        if not hmac.compare_digest(tag, self._tag(platform_id, payload)):
            raise InvalidCursor(f"{cursor[:64]!r} was not issued to this platform")
        return int.from_bytes(payload[1:], "big")


def page_body(page: Page, *, next_cursor: str) -> bytes:
    """The JSON body of a feed page, assembled from pre-serialised entries."""
    head = b'{"entries":['
    tail = json.dumps({"next_cursor": next_cursor, "has_more": page.more}, separators=(",", ":"))
    return head + b",".join(e.line for e in page.entries) + b"]," + tail[1:].encode()
