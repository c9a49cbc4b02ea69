"""A client of the audit service that trusts nothing it is told without checking it.

What an outsider has: the log's URL and its verifier key (pinned out of band). With only
the public endpoints it can fetch the latest checkpoint and check its signature, then
check that a leaf is included under it, and that the log only ever grew (consistency
with a checkpoint it saw earlier). The leaf is the entry's canonical bytes; an outsider
gets those from an auditor (``GET /v1/audit/entries`` needs the auditor key) or from
whoever showed them the entry, and hashes them locally: a proof for a hash the server
chose would prove nothing about the entry.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx

from services.audit.log.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from services.audit.log.merkle import leaf_hash, verify_consistency, verify_inclusion
from services.audit.log.note import Verifier


class ProofFailed(RuntimeError):
    """A checkpoint or proof from the log does not verify."""


@dataclass(frozen=True)
class Inclusion:
    index: int
    checkpoint: Checkpoint
    proof: list[bytes]


def _hashes(body: dict[str, Any]) -> list[bytes]:
    return [base64.b64decode(h, validate=True) for h in body["hashes"]]


class AuditClient:
    def __init__(self, url: str, verifier: Verifier, *, timeout: float = 10.0) -> None:
        self._http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        self._verifier = verifier

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, **params: int) -> httpx.Response:
        response = self._http.get(path, params=params)
        if response.status_code != 200:
            raise ProofFailed(f"GET {path} answered {response.status_code}: {response.text}")
        return response

    def signed_checkpoint(self) -> tuple[Checkpoint, bytes]:
        """The latest checkpoint and its note, signature checked against the pinned key."""
        note = self._get("/v1/audit/checkpoint").content
        try:
            opened = open_checkpoint(note, [self._verifier], origin=self._verifier.name)
        except CheckpointError as exc:
            raise ProofFailed(f"checkpoint does not verify: {exc}") from exc
        return opened.checkpoint, note

    def checkpoint(self) -> Checkpoint:
        """The latest checkpoint, signature checked against the pinned verifier key."""
        return self.signed_checkpoint()[0]

    def prove_inclusion(
        self, *, index: int, leaf: bytes, checkpoint: Checkpoint | None = None
    ) -> Inclusion:
        """Check that the entry with canonical bytes ``leaf`` is at ``index`` under
        ``checkpoint`` (default: the latest); raises ``ProofFailed`` if not."""
        checkpoint = checkpoint or self.checkpoint()
        if index >= checkpoint.size:
            raise ProofFailed(f"index {index} is not covered by the checkpoint ({checkpoint.size})")
        body = self._get("/v1/audit/proof/inclusion", index=index, tree_size=checkpoint.size).json()
        proof = _hashes(body)
        if not verify_inclusion(
            index=index,
            size=checkpoint.size,
            leaf_hash=leaf_hash(leaf),
            proof=proof,
            root=checkpoint.root_hash,
        ):
            raise ProofFailed(f"entry {index} is not included under root of size {checkpoint.size}")
        return Inclusion(index, checkpoint, proof)

    def prove_consistency(self, old: Checkpoint, new: Checkpoint) -> None:
        """Check that ``new`` extends ``old`` (the log never rewrote history)."""
        if old.size == new.size or old.size == 0:
            proof: list[bytes] = []
        else:
            body = self._get(
                "/v1/audit/proof/consistency", **{"from": old.size, "to": new.size}
            ).json()
            proof = _hashes(body)
        if not verify_consistency(
            old_size=old.size,
            new_size=new.size,
            old_root=old.root_hash,
            new_root=new.root_hash,
            proof=proof,
        ):
            raise ProofFailed(f"checkpoint {new.size} is not consistent with {old.size}")

    def entries(self, start: int, end: int, *, token: str) -> list[dict[str, Any]]:
        """Entries [start, end) as served (needs the auditor key); each has ``leaf`` bytes."""
        response = self._http.get(
            "/v1/audit/entries",
            params={"start": start, "end": end},
            headers={"Authorization": f"Bearer {token}"},
        )
        if response.status_code != 200:
            raise ProofFailed(f"entries answered {response.status_code}: {response.text}")
        rows: list[dict[str, Any]] = response.json()["entries"]
        for row in rows:
            row["leaf"] = base64.b64decode(row["leaf"], validate=True)
        return rows

    def all_entries(self, *, token: str, start: int = 0, page: int = 1000) -> list[dict[str, Any]]:
        """Every entry from ``start`` up to the latest checkpoint, page by page."""
        size = self.checkpoint().size
        rows: list[dict[str, Any]] = []
        for first in range(start, size, page):
            rows += self.entries(first, min(size, first + page), token=token)
        return rows
