"""The HTTP shell: machine-readable errors, a body limit on bytes read, health endpoints."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict
from redis.exceptions import ConnectionError as RedisConnectionError

from services.common.health import Readiness
from services.common.http import ApiError, install_http_shell
from services.common.kafka import DeliveryFailed
from services.common.metrics import CommonMetrics


class Locked(Exception):
    """A service's own "try again shortly" error."""


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


def make_client(ready: list[bool]) -> TestClient:
    app = FastAPI()
    readiness = Readiness()
    readiness.add("thing", lambda: ready[0])
    install_http_shell(
        app,
        metrics=CommonMetrics.create("t"),
        readiness=readiness,
        max_body_bytes=1000,
        unavailable=(Locked,),
    )

    @app.post("/echo")
    def echo(body: Body) -> dict[str, str]:
        away: dict[str, Exception] = {
            "kafka": DeliveryFailed("haven.cases.v1: timed out"),
            "slow": TimeoutError(),
            "redis": RedisConnectionError("refused"),
            "locked": Locked(),
        }
        if body.name in away:
            raise away[body.name]
        if body.name == "teapot":
            raise ApiError(418, "teapot", "no coffee", fields=[{"field": "name", "message": "tea"}])
        return {"name": body.name}

    return TestClient(app)


def test_validation_errors_name_the_field() -> None:
    response = make_client([True]).post("/echo", json={"name": 1, "extra": True})
    assert response.status_code == 422
    fields = {f["field"] for f in response.json()["fields"]}
    assert fields == {"name", "extra"}


def test_a_dependency_away_is_one_retryable_503_in_every_service() -> None:
    client = make_client([True])
    for name in ("kafka", "slow", "redis", "locked"):
        response = client.post("/echo", json={"name": name})
        assert response.status_code == 503, name
        assert response.headers["Retry-After"] == "5"
        assert response.json()["error"] == "unavailable"
        assert "timed out" not in response.text  # the cause is logged, not shown


def test_api_errors_keep_their_code() -> None:
    response = make_client([True]).post("/echo", json={"name": "teapot"})
    assert response.status_code == 418
    assert response.json() == {
        "error": "teapot",
        "message": "no coffee",
        "fields": [{"field": "name", "message": "tea"}],
    }


def test_body_limit_counts_bytes_read_even_without_content_length() -> None:
    client = make_client([True])
    assert client.post("/echo", content=b"x" * 1001).status_code == 413

    def stream() -> Iterator[bytes]:
        yield b'{"name": "'
        yield b"a" * 2000
        yield b'"}'

    response = client.post("/echo", content=stream(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
    assert client.post("/echo", json={"name": "ok"}).json() == {"name": "ok"}


def test_readyz_follows_checks_and_livez_does_not() -> None:
    ready = [False]
    client = make_client(ready)
    assert client.get("/livez").status_code == 200
    assert client.get("/readyz").status_code == 503
    ready[0] = True
    assert client.get("/readyz").json() == {"ready": True, "checks": {"thing": True}}


def test_metrics_count_requests_by_route_template() -> None:
    client = make_client([True])
    client.post("/echo", json={"name": "a"})
    text = client.get("/metrics").text
    assert 'haven_http_requests_total{method="POST",route="/echo",status="200"} 1.0' in text
