"""The contract suites against the real adapters: ``CaseStore`` and ``ReadModelWriter`` on a
real Redis, ``EventProducer`` and ``KafkaTopicReader`` on the real broker. The same tests run against the in-memory
fakes in ``tests/unit/intake/test_contracts_fake.py``.

Each test has a namespace of its own (Redis keys under ``<namespace>:intake``, topics under
``<namespace>.``), dropped when it ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from confluent_kafka import Message

from schemas.bootstrap import ensure_topics
from schemas.security import KafkaAccess
from schemas.topics import DELIVERIES, HASHLIST, SUBMISSIONS, qualified
from services.common.catch_up import KafkaTopicReader, TopicReader, read_to_end
from services.common.kafka import EventProducer, Publisher
from services.common.redis import async_client, sync_client
from services.intake.adapters.ports import CaseStorage, ReadModel
from services.intake.adapters.store import CaseStore, ReadModelWriter
from tests.contract.case_storage import CaseStorageContract
from tests.contract.loop import EventLoopThread
from tests.contract.publisher import Landed, PublisherContract, ReadBack
from tests.contract.read_model import ReadModelContract
from tests.contract.topic_reader import TopicReaderContract
from tests.integration.conftest import message_headers
from tests.support import infra
from tests.support.namespace import drop_namespace

pytestmark = pytest.mark.integration


def _adapters_satisfy_the_ports(
    store: CaseStore, model: ReadModelWriter, producer: EventProducer
) -> tuple[CaseStorage, ReadModel, Publisher]:
    """Never called: mypy checks here that each adapter is its Protocol."""
    return store, model, producer


@pytest.fixture
def namespace_of_test(
    request: pytest.FixtureRequest, kafka_bootstrap: KafkaAccess, redis_url: str
) -> str:
    """A namespace for this test only; its topics and Redis keys are dropped afterwards."""
    namespace = f"ct{uuid.uuid4().hex[:10]}"
    request.addfinalizer(lambda: drop_namespace(kafka_bootstrap, redis_url, namespace))
    return namespace


@pytest.fixture
def prefix(namespace_of_test: str) -> str:
    return f"{namespace_of_test}:intake"


MAC_KEY = b"contract-test-case-mac-key-0123456789"


def as_intake(redis_url: str) -> dict[str, str]:
    """intake's own Redis ACL user, as the real service connects."""
    return {
        "username": "intake",
        "password": infra.redis_service_env()["HAVEN_INTAKE_REDIS_PASSWORD"],
    }


@pytest.fixture
def redis_sync(redis_url: str) -> Iterator[redis.Redis]:
    client = sync_client(infra.without_credentials(redis_url), **as_intake(redis_url))
    yield client
    client.close()


def real_case_store(aio: EventLoopThread, redis_url: str, prefix: str) -> Iterator[CaseStore]:
    client = async_client(infra.without_credentials(redis_url), **as_intake(redis_url))
    yield CaseStore(client, prefix, mac_key=MAC_KEY)
    aio.run(client.aclose())  # on the loop its connections were made on


class TestRedisCaseStore(CaseStorageContract):
    @pytest.fixture
    def case_storage(
        self, aio: EventLoopThread, redis_url: str, prefix: str
    ) -> Iterator[CaseStore]:
        yield from real_case_store(aio, redis_url, prefix)


class TestRedisReadModel(ReadModelContract):
    @pytest.fixture
    def read_model(
        self, aio: EventLoopThread, redis_sync: redis.Redis, prefix: str
    ) -> ReadModelWriter:
        return ReadModelWriter(redis_sync, prefix, mac_key=MAC_KEY)

    @pytest.fixture
    def case_storage(
        self, read_model: ReadModelWriter, aio: EventLoopThread, redis_url: str
    ) -> Iterator[CaseStore]:
        yield from real_case_store(aio, redis_url, read_model.keys.prefix)

    @pytest.fixture
    def wipe(self, read_model: ReadModelWriter, redis_sync: redis.Redis) -> Callable[[], None]:
        def wipe() -> None:
            # Only this test's keys: the Redis may be shared with other runs.
            doomed = list(redis_sync.scan_iter(match=f"{read_model.keys.prefix}:*", count=1000))
            if doomed:
                redis_sync.delete(*doomed)

        return wipe


class TestKafkaEventProducer(PublisherContract):
    @pytest.fixture
    def topic(self, kafka_bootstrap: KafkaAccess, namespace_of_test: str) -> str:
        ensure_topics(kafka_bootstrap, (SUBMISSIONS,), namespace=namespace_of_test)
        return qualified(SUBMISSIONS.name, namespace_of_test)

    @pytest.fixture
    def publisher(self, topic: str, kafka_bootstrap: KafkaAccess) -> Iterator[EventProducer]:
        producer = EventProducer(kafka_bootstrap)
        yield producer
        producer.close()

    @pytest.fixture
    def read_back(self, kafka_bootstrap: KafkaAccess) -> ReadBack:
        def read(topic: str) -> list[Landed]:
            landed: list[Landed] = []

            def keep(msg: Message) -> None:
                headers = list(message_headers(msg).items())
                landed.append(
                    Landed(msg.key(), msg.value(), msg.partition() or 0, msg.offset() or 0, headers)
                )

            read_to_end(kafka_bootstrap, topic, keep, timeout=60)
            return landed

        return read

    @pytest.fixture
    def broken_publisher(self, topic: str) -> Iterator[EventProducer]:
        # Nothing listens on port 1: every delivery times out, as with the broker away.
        impatient: dict[str, Any] = {"delivery.timeout.ms": 1500, "request.timeout.ms": 1000}
        producer = EventProducer(KafkaAccess("127.0.0.1:1"), **impatient)
        yield producer
        producer.close(timeout=1.0)


class TestKafkaTopicReader(TopicReaderContract):
    @pytest.fixture
    def topics(self, kafka_bootstrap: KafkaAccess, namespace_of_test: str) -> tuple[str, str]:
        ensure_topics(kafka_bootstrap, (HASHLIST, DELIVERIES), namespace=namespace_of_test)
        return (
            qualified(HASHLIST.name, namespace_of_test),
            qualified(DELIVERIES.name, namespace_of_test),
        )

    @pytest.fixture
    def publisher(self, kafka_bootstrap: KafkaAccess) -> Iterator[EventProducer]:
        producer = EventProducer(kafka_bootstrap)
        yield producer
        producer.close()

    @pytest.fixture
    def reader(self, kafka_bootstrap: KafkaAccess) -> TopicReader:
        return KafkaTopicReader(kafka_bootstrap)
