"""The audit API's answer models (``XRead``); proofs carry hashes as standard base64 and mirror
RFC 9162 §4.11/§4.12."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class InclusionProofRead(BaseModel):
    index: int
    tree_size: int
    leaf_hash: str = Field(description="base64 RFC 9162 leaf hash of the entry at index")
    hashes: list[str] = Field(description="audit path, leaf side first, base64")


class ConsistencyProofRead(BaseModel):
    from_size: int = Field(serialization_alias="from")
    to_size: int = Field(serialization_alias="to")
    hashes: list[str] = Field(description="consistency proof, base64")


class EntryRead(BaseModel):
    index: int
    leaf: str = Field(description="the entry's canonical bytes, base64 (hash these)")
    entry: dict[str, Any] = Field(description="the same entry, decoded")


class EntriesRead(BaseModel):
    start: int
    end: int
    tree_size: int
    entries: list[EntryRead]
