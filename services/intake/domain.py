"""Cases: numbers people can read aloud, secrets that cannot be guessed, and the events.

Pure logic: no FastAPI, Kafka or Redis. A case number is ``HVN-`` and 10 characters of
Crockford base32 (50 bits, no I/L/O/U to misread); the secret is 24 random bytes (192 bits)
shown once and kept only as an scrypt hash, compared in constant time.

scrypt cost: n=2^12, r=8 (4 MiB, about 15 ms here). The secret carries 192 random bits, so
no work factor is needed against guessing it; the slow, memory-hard hash is defence in depth
should the case snapshots leak. n=2^14 cost 85 ms per create and capped intake at about
15 cases/s on a 2-core machine (bench/intake.py), for no security the entropy does not
already give. The parameters are stored in each hash, so older hashes keep verifying.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from schemas.events import (
    ActionKind,
    ActionReported,
    CaseOpened,
    CaseSnapshot,
    CaseStatus,
    CaseWithdrawn,
    MediaAdded,
    MediaItem,
    utcnow,
)
from schemas.signals import ImageMedia, VideoMedia, signals_of

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**12, 8, 1


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
    snapshot = snapshot.model_copy(update={"event_id": snapshot_event_id(snapshot)})
    return opened, snapshot, secret


def _event_id(*natural_key: object) -> uuid.UUID:
    """Deterministic id of a derived event, so a re-emission is recognisable as a duplicate."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "haven:intake:" + ":".join(map(str, natural_key)))


def snapshot_event_id(snapshot: CaseSnapshot) -> uuid.UUID:
    return _event_id(snapshot.case_id, "snapshot", snapshot.status.value, len(snapshot.items))


def add_media(
    snapshot: CaseSnapshot, media: list[ImageMedia | VideoMedia], *, now: datetime | None = None
) -> tuple[MediaAdded, CaseSnapshot]:
    """Events that add media to an open case (the caller holds the case's lock)."""
    if snapshot.status is not CaseStatus.OPEN:
        raise CaseClosed(snapshot.case_number)
    now = now or utcnow()
    items = new_media_items(media, start=len(snapshot.items) + 1)
    added = MediaAdded(
        event_id=_event_id(snapshot.case_id, "media", items[0].media_id),
        case_id=snapshot.case_id,
        items=items,
        occurred_at=now,
    )
    updated = snapshot.model_copy(update={"items": [*snapshot.items, *items], "updated_at": now})
    updated = updated.model_copy(
        update={"event_id": snapshot_event_id(updated), "occurred_at": now}
    )
    return added, updated


def withdraw(
    snapshot: CaseSnapshot, *, now: datetime | None = None
) -> tuple[CaseWithdrawn, CaseSnapshot]:
    """Events that withdraw a whole case. Ids are deterministic: withdrawing is idempotent."""
    now = now or utcnow()
    withdrawn = CaseWithdrawn(
        event_id=_event_id(snapshot.case_id, "withdrawn"), case_id=snapshot.case_id, occurred_at=now
    )
    updated = snapshot.model_copy(update={"status": CaseStatus.WITHDRAWN, "updated_at": now})
    updated = updated.model_copy(
        update={"event_id": snapshot_event_id(updated), "occurred_at": now}
    )
    return withdrawn, updated


class CaseClosed(Exception):
    """Media cannot be added to a withdrawn case."""


def snapshot_rank(snapshot: CaseSnapshot) -> str:
    """Orders snapshots of one case (later, then withdrawn, then more items wins); compared as
    strings by the read model so a write-through and the projector never go backwards."""
    micros = int(snapshot.updated_at.timestamp() * 1_000_000)
    closed = int(snapshot.status is CaseStatus.WITHDRAWN)
    return f"{micros:020d}{closed}{len(snapshot.items):06d}"


# --------------------------------------------------------------------- status


ACTION_KINDS = tuple(kind.value for kind in ActionKind)


@dataclass
class KeyFacts:
    """What the rest of the system reported about one fingerprint key, across all cases."""

    delivered: set[str] = field(default_factory=set)
    matched: set[str] = field(default_factory=set)
    # platform -> (rank of the report, action); the highest rank is the latest report.
    actions: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class Reach:
    shared_with: int
    matched_on: int
    actions: dict[str, int]


def report_rank(action: ActionReported) -> str:
    """Orders one platform's action reports on a fingerprint: the later one ranks higher, the
    event id breaks ties (fixed width, so comparing the strings compares the reports)."""
    micros = int(action.occurred_at.timestamp() * 1_000_000)
    return f"{micros:020d}{action.event_id}"


def item_keys(item: MediaItem) -> list[str]:
    """The ``<signal>:<value>`` keys a media item contributes to the hash list."""
    return [signal.key for signal in signals_of(item.media)]


def reach(keys: list[str], facts: dict[str, KeyFacts]) -> Reach:
    """Distinct platforms over ``keys``; per platform only its latest action counts."""
    delivered: set[str] = set()
    matched: set[str] = set()
    latest: dict[str, tuple[str, str]] = {}
    for key in keys:
        fact = facts.get(key)
        if fact is None:
            continue
        delivered |= fact.delivered
        matched |= fact.matched
        for platform, report in fact.actions.items():
            if platform not in latest or report > latest[platform]:
                latest[platform] = report
    actions = dict.fromkeys(ACTION_KINDS, 0)
    for _, action in latest.values():
        if action in actions:
            actions[action] += 1
    return Reach(shared_with=len(delivered), matched_on=len(matched), actions=actions)


# --------------------------------------------------------------------- limits and secrets

# Checked when a case is unknown, so "no such case" and "wrong secret" take the same time.
_DECOY_HASH = hash_secret("haven-decoy-secret", salt=b"haven-decoy-salt")


def secret_matches(secret: str, snapshot: CaseSnapshot | None) -> bool:
    """Constant-time-ish: an unknown case costs the same scrypt as a known one."""
    if snapshot is None:
        verify_secret(secret, _DECOY_HASH)
        return False
    return verify_secret(secret, snapshot.secret_hash)


def frame_count(media: Iterable[ImageMedia | VideoMedia]) -> int:
    return sum(len(item.frames) for item in media if isinstance(item, VideoMedia))


def limit_problems(
    media: list[ImageMedia | VideoMedia],
    *,
    existing: Sequence[MediaItem] = (),
    max_media: int,
    max_frames: int,
    max_case_frames: int,
) -> list[dict[str, str]]:
    """Field problems of a submission to a case holding ``existing`` against the case limits
    (empty when acceptable). The frame budget of a whole case is what keeps its snapshot,
    which holds every item, within the case topics' message size (``schemas.topics``)."""
    problems = []
    frames = frame_count(item.media for item in existing) + frame_count(media)
    if frames > max_case_frames:
        problems.append(
            {
                "field": "items",
                "message": f"a case holds at most {max_case_frames} video frames in all; "
                f"this would make it {frames} (open another case for more videos)",
            }
        )
    if len(existing) + len(media) > max_media:
        problems.append(
            {
                "field": "items",
                "message": f"a case holds at most {max_media} items; "
                f"it has {len(existing)} and {len(media)} were sent",
            }
        )
    for index, item in enumerate(media):
        if isinstance(item, VideoMedia) and len(item.frames) > max_frames:
            problems.append(
                {
                    "field": f"items.{index}.frames",
                    "message": f"{len(item.frames)} frames; at most {max_frames} per video",
                }
            )
    return problems
