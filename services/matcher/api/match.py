"""``POST /v1/match``: look a batch of signals up in the hash list."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from schemas.signals import Md5Hex, PdqHex
from services.matcher.worker import IndexWorker

router = APIRouter(prefix="/v1", tags=["match"])


class PdqQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["pdq"]
    value: PdqHex
    max_distance: int = Field(31, ge=0, le=128, description="Hamming radius, default 31")


class Md5Query(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["md5"]
    value: Md5Hex


Query = Annotated[PdqQuery | Md5Query, Field(discriminator="type")]


class MatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signals: list[Query] = Field(min_length=1, max_length=1000)


class MatchRead(BaseModel):
    signal: str
    value: str
    distance: int
    sequence: int = Field(description="the hash-list sequence of the entry matched")


class QueryResult(BaseModel):
    index: int = Field(description="position of the query in the request")
    matches: list[MatchRead]


class MatchResponse(BaseModel):
    results: list[QueryResult]


@router.post("/match", response_model=MatchResponse)
def match(body: MatchRequest, request: Request) -> MatchResponse:
    """Match up to 1,000 signals against the active hash list."""
    worker: IndexWorker = request.app.state.index_worker
    results = []
    with worker.lock:
        for i, query in enumerate(body.signals):
            if isinstance(query, PdqQuery):
                found = worker.view.match_pdq(query.value, query.max_distance)
            else:
                found = worker.view.match_md5(query.value)
            results.append(
                QueryResult(
                    index=i,
                    matches=[
                        MatchRead(
                            signal=m.signal.value,
                            value=m.value,
                            distance=m.distance,
                            sequence=m.sequence,
                        )
                        for m in found
                    ],
                )
            )
    return MatchResponse(results=results)
