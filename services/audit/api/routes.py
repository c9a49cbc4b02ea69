"""Audit HTTP routes: the signed checkpoint and proofs (public), entries (auditor key).

Proof bodies carry hashes as standard base64, like the checkpoint's root hash, and
mirror RFC 9162 §4.11/§4.12 (``get-proof-by-hash``/``get-sth-consistency``): a client
verifies them against a checkpoint it has checked with the log's verifier key.

Entries carry fingerprints, which are sensitive (PDQ can be partly inverted), so reading
them needs ``Authorization: Bearer <HAVEN_AUDITOR_TOKEN>``, compared in constant time, and
at most ``entries_max_range`` entries per request. Each entry is returned twice: its exact
canonical bytes (base64; hash those to get the leaf) and the decoded JSON for reading.

``GET /v1/audit/key`` serves the verifier key for convenience; a verifier that takes the
key from the log it checks only proves the log is self-consistent, so auditors should pin
the key they got out of band (it is printed by ``haven audit keygen``).
"""

from __future__ import annotations

import base64
import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse

from services.audit.api.models import (
    ConsistencyProofRead,
    EntriesRead,
    EntryRead,
    InclusionProofRead,
)
from services.audit.log.entry import Entry
from services.audit.log.note import Verifier
from services.audit.log.tlog import AuditLog
from services.audit.settings import AuditSettings
from services.common.app import from_state
from services.common.http import ApiError

router = APIRouter(prefix="/v1/audit", tags=["audit"])
NO_CACHE = {"Cache-Control": "no-cache"}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


LogDep = Annotated[AuditLog, Depends(from_state("audit_log", AuditLog))]
SettingsDep = Annotated[AuditSettings, Depends(from_state("settings", AuditSettings))]


def require_auditor(request: Request, settings: SettingsDep) -> None:
    """401 unless the request carries the auditor token."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    expected = settings.auditor_token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise ApiError(
            401,
            "unauthorized",
            "reading entries needs the auditor key: Authorization: Bearer <token>",
            ("header.authorization", "missing or wrong auditor key"),
            headers={"WWW-Authenticate": 'Bearer realm="haven-audit"'},
        )


def _out_of_range(param: str, message: str) -> ApiError:
    return ApiError(400, "out_of_range", f"{param}: {message}", (f"query.{param}", message))


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(audit_log: LogDep) -> PlainTextResponse:
    """The latest signed checkpoint (C2SP tlog-checkpoint signed note)."""
    note = audit_log.latest_checkpoint()
    if note is None:
        raise ApiError(503, "no_checkpoint", "the log has not signed a checkpoint yet")
    return PlainTextResponse(note.decode(), headers=NO_CACHE)


@router.get("/key", response_class=PlainTextResponse)
def verifier_key(request: Request) -> PlainTextResponse:
    """The log's verifier key (pin it from an independent source when you can)."""
    verifier: Verifier = request.app.state.audit_verifier
    return PlainTextResponse(verifier.key + "\n")


@router.get("/proof/inclusion", response_model=InclusionProofRead)
def inclusion(
    audit_log: LogDep,
    index: Annotated[int, Query(ge=0, description="entry index, from 0")],
    tree_size: Annotated[int, Query(ge=1, description="size of a signed checkpoint")],
) -> InclusionProofRead:
    """Audit path proving entry ``index`` is in the tree of ``tree_size``."""
    size = audit_log.size
    if tree_size > size:
        raise _out_of_range("tree_size", f"{tree_size} is larger than the log ({size} entries)")
    if index >= tree_size:
        raise _out_of_range("index", f"{index} is not below tree_size {tree_size}")
    proof = audit_log.inclusion_proof(index, tree_size)
    return InclusionProofRead(
        index=index,
        tree_size=tree_size,
        leaf_hash=_b64(audit_log.leaf_hash(index)),
        hashes=[_b64(h) for h in proof],
    )


@router.get("/proof/consistency", response_model=ConsistencyProofRead, response_model_by_alias=True)
def consistency(
    audit_log: LogDep,
    from_size: Annotated[int, Query(alias="from", ge=1, description="older tree size")],
    to_size: Annotated[int, Query(alias="to", ge=1, description="newer tree size")],
) -> ConsistencyProofRead:
    """Proof that the tree of size ``from`` is a prefix of the tree of size ``to``."""
    size = audit_log.size
    if to_size > size:
        raise _out_of_range("to", f"{to_size} is larger than the log ({size} entries)")
    if from_size > to_size:
        raise _out_of_range("from", f"{from_size} is larger than to ({to_size})")
    proof = audit_log.consistency_proof(from_size, to_size)
    return ConsistencyProofRead(
        from_size=from_size, to_size=to_size, hashes=[_b64(h) for h in proof]
    )


@router.get("/entries", response_model=EntriesRead, dependencies=[Depends(require_auditor)])
def entries(
    audit_log: LogDep,
    settings: SettingsDep,
    start: Annotated[int, Query(ge=0, description="first index")],
    end: Annotated[int, Query(ge=1, description="one past the last index")],
) -> EntriesRead:
    """Entries [start, end) with their canonical bytes (auditor key)."""
    size, limit = audit_log.size, settings.entries_max_range
    if end > size:
        raise _out_of_range("end", f"{end} is beyond the log ({size} entries)")
    if start >= end:
        raise _out_of_range("start", f"{start} is not below end {end}")
    if end - start > limit:
        raise _out_of_range("end", f"at most {limit} entries per request (asked {end - start})")
    rows = audit_log.entry_bytes(start, end)
    out = [
        EntryRead(index=start + i, leaf=_b64(data), entry=Entry.decode(data).to_json())
        for i, data in enumerate(rows)
    ]
    return EntriesRead(start=start, end=end, tree_size=size, entries=out)
