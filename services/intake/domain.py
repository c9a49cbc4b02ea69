"""Cases: numbers people can read aloud, secrets that cannot be guessed, and the events.

Pure logic: no FastAPI, Kafka or Redis. A case number is ``HVN-`` and 10 characters of
Crockford base32 (50 bits, no I/L/O/U to misread); the secret is 24 random bytes (192 bits)
shown once and kept only as an scrypt hash, compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import datetime

from schemas.events import CaseOpened, CaseSnapshot, CaseStatus, MediaItem, utcnow
from schemas.signals import ImageMedia, VideoMedia

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def new_case_number() -> str:
    digits = "".join(secrets.choice(CROCKFORD) for _ in range(10))
    return f"HVN-{digits[:5]}-{digits[5:]}"


def normalise_case_number(raw: str) -> str:
    """Accept what a person types: any case, spaces or missing dashes; O→0, I/L→1."""
    cleaned = raw.upper().replace(" ", "").replace("-", "")
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    cleaned = cleaned.removeprefix("HVN")
    if len(cleaned) != 10 or any(ch not in CROCKFORD for ch in cleaned):
        raise ValueError(f"{raw!r} is not a case number (it looks like HVN-XXXXX-XXXXX)")
    return f"HVN-{cleaned[:5]}-{cleaned[5:]}"


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(digest_b64)
    actual = hashlib.scrypt(
        secret.encode(), salt=base64.b64decode(salt_b64), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(actual, expected)


def new_media_items(media: list[ImageMedia | VideoMedia], *, start: int = 1) -> list[MediaItem]:
    return [MediaItem(media_id=f"m{start + i}", media=item) for i, item in enumerate(media)]


def open_case(
    media: list[ImageMedia | VideoMedia], *, now: datetime | None = None
) -> tuple[CaseOpened, CaseSnapshot, str]:
    """The events that open a case, and the secret to show the submitter once."""
    now = now or utcnow()
    case_id = uuid.uuid4().hex
    secret = new_secret()
    items = new_media_items(media)
    opened = CaseOpened(case_id=case_id, items=items, occurred_at=now)
    snapshot = CaseSnapshot(
        case_id=case_id,
        case_number=new_case_number(),
        secret_hash=hash_secret(secret),
        status=CaseStatus.OPEN,
        items=items,
        opened_at=now,
        updated_at=now,
        occurred_at=now,
    )
    return opened, snapshot, secret
