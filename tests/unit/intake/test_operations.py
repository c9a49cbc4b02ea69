"""Intake's case operations through the fakes: what reaches Kafka, what the read model then
shows, and that nothing is written through when Kafka did not acknowledge."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from schemas.events import CaseSnapshot, CaseStatus
from schemas.signals import ImageMedia
from schemas.topics import CASES, SUBMISSIONS, qualified
from services.common.http import ApiError
from services.common.kafka import DeliveryFailed
from services.intake import domain, operations
from services.intake.metrics import IntakeMetrics
from services.intake.operations import Intake
from services.intake.settings import IntakeSettings
from tests.contract.loop import EventLoopThread
from tests.support.fakes import MemoryCaseStore, MemoryPublisher

NS = "unit"


def image(n: int) -> ImageMedia:
    return ImageMedia(pdq=f"{n:064x}", quality=90, md5=f"{n:032x}")


@pytest.fixture
def aio() -> Iterator[EventLoopThread]:
    loop = EventLoopThread()
    yield loop
    loop.close()


@pytest.fixture
def settings() -> IntakeSettings:
    return IntakeSettings(env="development", kafka_namespace=NS, max_media_per_case=3)


@pytest.fixture
def case() -> CaseSnapshot:
    _, snapshot, _ = domain.open_case([image(1)])
    return snapshot


def types_on(publisher: MemoryPublisher, topic: str) -> list[str]:
    return [json.loads(m.value() or b"")["type"] for m in publisher.messages(topic)]


def test_adding_media_publishes_the_event_and_the_snapshot_then_writes_through(
    aio: EventLoopThread, settings: IntakeSettings, case: CaseSnapshot
) -> None:
    store, publisher = MemoryCaseStore(), MemoryPublisher()
    aio.run(store.put(case))
    added = aio.run(
        operations.add_media(
            case=case,
            items=[image(2)],
            intake=Intake(settings, publisher, store, IntakeMetrics.create()),
        )
    )
    assert [m.media_id for m in added.media] == ["m2"]
    assert types_on(publisher, qualified(SUBMISSIONS.name, NS)) == ["MediaAdded"]
    snapshots = publisher.messages(qualified(CASES.name, NS))
    assert [m.key() for m in snapshots] == [case.case_id.encode()]  # keyed by case id
    stored = aio.run(store.get(case.case_number))
    assert stored is not None and len(stored.items) == 2


def test_nothing_is_written_through_when_kafka_does_not_acknowledge(
    aio: EventLoopThread, settings: IntakeSettings, case: CaseSnapshot
) -> None:
    store, publisher = MemoryCaseStore(), MemoryPublisher()
    aio.run(store.put(case))
    publisher.fail_deliveries()
    with pytest.raises(DeliveryFailed):
        aio.run(
            operations.withdraw_case(
                case=case,
                intake=Intake(settings, publisher, store, IntakeMetrics.create()),
            )
        )
    stored = aio.run(store.get(case.case_number))
    assert stored is not None and stored.status is CaseStatus.OPEN  # the 503 changed nothing


def test_withdrawing_twice_tells_platforms_once(
    aio: EventLoopThread, settings: IntakeSettings, case: CaseSnapshot
) -> None:
    store, publisher = MemoryCaseStore(), MemoryPublisher()
    aio.run(store.put(case))
    for _ in range(2):
        aio.run(
            operations.withdraw_case(
                case=case,
                intake=Intake(settings, publisher, store, IntakeMetrics.create()),
            )
        )
    assert types_on(publisher, qualified(SUBMISSIONS.name, NS)) == ["CaseWithdrawn"]
    with pytest.raises(ApiError) as refused:  # and a withdrawn case takes no more media
        aio.run(
            operations.add_media(
                case=case,
                items=[image(3)],
                intake=Intake(settings, publisher, store, IntakeMetrics.create()),
            )
        )
    assert refused.value.status == 409 and refused.value.error == "case_withdrawn"


def test_a_case_is_refused_media_beyond_its_limit_before_anything_is_sent(
    aio: EventLoopThread, settings: IntakeSettings, case: CaseSnapshot
) -> None:
    store, publisher = MemoryCaseStore(), MemoryPublisher()
    aio.run(store.put(case))
    with pytest.raises(ApiError) as refused:
        aio.run(
            operations.add_media(
                case=case,
                items=[image(2), image(3), image(4)],  # 1 + 3 > max_media_per_case = 3
                intake=Intake(settings, publisher, store, IntakeMetrics.create()),
            )
        )
    assert refused.value.status == 422 and refused.value.error == "limit_exceeded"
    assert publisher.messages(qualified(SUBMISSIONS.name, NS)) == []
