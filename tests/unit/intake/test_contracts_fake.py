"""The contract suites against the in-memory fakes (no Kafka, no Redis): the fakes the unit
tests lean on behave as the real adapters do (``tests/integration/test_contracts.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from services.common.catch_up import TopicReader
from services.common.kafka import DeliveryFailed, Publisher
from services.intake.adapters.ports import CaseStorage, ReadModel
from tests.contract.case_storage import CaseStorageContract
from tests.contract.loop import EventLoopThread
from tests.contract.publisher import Landed, PublisherContract, ReadBack
from tests.contract.read_model import ReadModelContract
from tests.contract.topic_reader import TopicReaderContract
from tests.support.fakes import (
    MemoryCaseStore,
    MemoryPublisher,
    MemoryReadModel,
    MemoryReadState,
)


def _fakes_satisfy_the_ports(
    store: MemoryCaseStore, model: MemoryReadModel, publisher: MemoryPublisher
) -> tuple[CaseStorage, ReadModel, Publisher]:
    """Never called: mypy checks here that each fake is its Protocol."""
    return store, model, publisher


class TestMemoryCaseStore(CaseStorageContract):
    @pytest.fixture
    def case_storage(self, aio: EventLoopThread) -> MemoryCaseStore:
        return MemoryCaseStore()


class TestMemoryReadModel(ReadModelContract):
    @pytest.fixture
    def read_model(self, aio: EventLoopThread) -> MemoryReadModel:
        return MemoryReadModel(MemoryReadState())

    @pytest.fixture
    def case_storage(self, read_model: MemoryReadModel, aio: EventLoopThread) -> MemoryCaseStore:
        return MemoryCaseStore(read_model.state)

    @pytest.fixture
    def wipe(self, read_model: MemoryReadModel) -> Callable[[], None]:
        return read_model.state.clear


class TestMemoryPublisher(PublisherContract):
    @pytest.fixture
    def topic(self) -> str:
        return "unit.haven.submissions.v1"

    @pytest.fixture
    def publisher(self, topic: str) -> MemoryPublisher:
        return MemoryPublisher()

    @pytest.fixture
    def read_back(self, publisher: MemoryPublisher) -> ReadBack:
        def read(topic: str) -> list[Landed]:
            return [
                Landed(m.key(), m.value(), m.partition(), m.offset(), m.headers())
                for m in publisher.messages(topic)
            ]

        return read

    @pytest.fixture
    def broken_publisher(self, publisher: MemoryPublisher) -> MemoryPublisher:
        publisher.fail_deliveries()
        return publisher


def test_the_fake_publisher_fails_one_topic_and_recovers_when_told() -> None:
    publisher = MemoryPublisher()
    publisher.fail_deliveries("leader not available", topic="t.cases")
    publisher.send("t.submissions", "c1", b"opened")
    with pytest.raises(DeliveryFailed, match=r"t\.cases: leader not available"):
        publisher.send("t.cases", "c1", b"snapshot")
    publisher.resume_deliveries()
    publisher.send("t.cases", "c1", b"snapshot")
    assert [m.value() for m in publisher.messages("t.cases")] == [b"snapshot"]
    assert [m.value() for m in publisher.messages("t.submissions")] == [b"opened"]


class TestMemoryTopicReader(TopicReaderContract):
    @pytest.fixture
    def publisher(self) -> MemoryPublisher:
        return MemoryPublisher()

    @pytest.fixture
    def reader(self, publisher: MemoryPublisher) -> TopicReader:
        return publisher

    @pytest.fixture
    def topics(self) -> tuple[str, str]:
        return "unit.haven.hashlist.v1", "unit.haven.deliveries.v1"
