"""Session fixtures: the real Kafka and Redis, a Kafka namespace of this run, and its topics."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from schemas.bootstrap import bootstrap
from schemas.security import KafkaAccess
from tests.support import infra
from tests.support.namespace import drop_namespace


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[KafkaAccess]:
    """The broker, reached as the operator's ``admin`` principal."""
    with infra.kafka() as admin:
        yield admin


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with infra.redis() as url:
        yield url


@pytest.fixture(scope="session")
def namespace() -> str:
    """A prefix for every topic this test run creates, so runs never see each other's events."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def topics(kafka_bootstrap: KafkaAccess, redis_url: str, namespace: str) -> Iterator[str]:
    """Every contract topic and the services' ACLs on them, created in this run's namespace
    (and dropped, with its Redis keys, at the end of the run). Returns the namespace."""
    bootstrap(kafka_bootstrap, namespace=namespace)
    yield namespace
    drop_namespace(kafka_bootstrap, redis_url, namespace)
