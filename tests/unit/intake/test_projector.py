"""The status projector through the in-memory read model: what each topic's message does to
what a submitter's status read shows, and what a redelivery, an unknown topic and a poison
message do (nothing, a skip, and an error the consumer loop dead-letters)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from confluent_kafka import OFFSET_BEGINNING, TopicPartition
from pydantic import BaseModel, ValidationError

from schemas.events import (
    ActionKind,
    ActionReported,
    CaseSnapshot,
    Channel,
    DeliveryOutcome,
    DeliveryRecorded,
    MatchFound,
)
from schemas.signals import SignalType
from services.intake import domain
from services.intake.settings import IntakeSettings
from services.intake.worker import StatusProjector
from tests.contract.cases import T0, case_history
from tests.contract.loop import EventLoopThread
from tests.support.fakes import memory_read_model

NS = "unit"
CASES, DELIVERIES, MATCHES, ACTIONS = (
    f"{NS}.haven.{name}.v1" for name in ("cases", "deliveries", "matches", "actions")
)


class Msg:
    """Just enough of a confluent ``Message`` for the projector."""

    def __init__(self, topic: str, offset: int, value: BaseModel | bytes, partition: int = 0):
        self._topic, self._offset, self._partition = topic, offset, partition
        self._value = value.model_dump_json().encode() if isinstance(value, BaseModel) else value

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def value(self) -> bytes:
        return self._value

    def key(self) -> bytes | None:
        return None


class Rig:
    """A projector over a fresh in-memory read model, and the status a submitter would read."""

    def __init__(self, aio: EventLoopThread) -> None:
        self.aio = aio
        self.store, self.model = memory_read_model()
        self.projector = StatusProjector(
            self.model, IntakeSettings(env="development", kafka_namespace=NS)
        )

    def handle(self, topic: str, offset: int, value: BaseModel | bytes) -> None:
        self.projector.handle(Msg(topic, offset, value))  # type: ignore[arg-type]  # a stand-in

    def case(self, number: str) -> CaseSnapshot | None:
        return self.aio.run(self.store.get(number))

    def reach(self, snapshot: CaseSnapshot) -> domain.Reach:
        keys = sorted({key for item in snapshot.items for key in domain.item_keys(item)})
        return domain.reach(keys, self.aio.run(self.store.facts(keys)))


@pytest.fixture
def rig() -> Iterator[Rig]:
    loop = EventLoopThread()
    yield Rig(loop)
    loop.close()


def delivery(platform: str, keys: list[str], outcome: DeliveryOutcome) -> DeliveryRecorded:
    return DeliveryRecorded(
        platform_id=platform,
        channel=Channel.PULL,
        batch_id=random.randbytes(4).hex(),
        first_sequence=1,
        last_sequence=len(keys),
        keys=keys,
        outcome=outcome,
    )


def pdq_of(snapshot: CaseSnapshot) -> str:
    return next(k for k in domain.item_keys(snapshot.items[0]) if k.startswith("pdq:"))


def report(platform: str, pdq_key: str, action: ActionKind, minutes: int) -> ActionReported:
    return ActionReported(
        platform_id=platform,
        signal=SignalType.PDQ,
        value=pdq_key.removeprefix("pdq:"),
        action=action,
        upload_ref="u1",
        occurred_at=T0 + timedelta(minutes=minutes),
    )


NO_ACTIONS = dict.fromkeys(domain.ACTION_KINDS, 0)


def test_a_case_snapshot_becomes_the_case_a_status_read_finds(rig: Rig) -> None:
    case = case_history()
    rig.handle(CASES, 0, case.added)
    assert rig.case(case.number) == case.added
    rig.handle(CASES, 1, case.opened)  # an older snapshot, replayed: the newer one stays
    assert rig.case(case.number) == case.added
    rig.handle(CASES, 2, case.withdrawn)
    found = rig.case(case.number)
    assert found is not None and found.status.value == "withdrawn"


def test_deliveries_matches_and_actions_show_up_in_the_reach(rig: Rig) -> None:
    case = case_history()
    snapshot = case.added
    keys = sorted({k for item in snapshot.items for k in domain.item_keys(item)})
    pdq = pdq_of(snapshot)
    rig.handle(DELIVERIES, 0, delivery("alpha", keys, DeliveryOutcome.DELIVERED))  # before the case
    rig.handle(CASES, 0, snapshot)
    rig.handle(DELIVERIES, 1, delivery("beta", keys[:1], DeliveryOutcome.DELIVERED))
    rig.handle(DELIVERIES, 2, delivery("gamma", keys, DeliveryOutcome.FAILED))
    assert rig.reach(snapshot) == domain.Reach(shared_with=2, matched_on=0, actions=NO_ACTIONS)

    found = MatchFound(
        platform_id="alpha",
        signal=SignalType.PDQ,
        value=pdq.removeprefix("pdq:"),
        sequence=1,
        distance=2,
        upload_ref="u1",
    )
    rig.handle(MATCHES, 0, found)
    # alpha removed it after reviewing; the reports arrive in the wrong order.
    rig.handle(ACTIONS, 0, report("alpha", pdq, ActionKind.REMOVED, minutes=5))
    rig.handle(ACTIONS, 1, report("alpha", pdq, ActionKind.UNDER_REVIEW, minutes=1))
    rig.handle(ACTIONS, 2, report("beta", pdq, ActionKind.BLOCKED, minutes=2))
    assert rig.reach(snapshot) == domain.Reach(
        shared_with=2, matched_on=1, actions={**NO_ACTIONS, "removed": 1, "blocked": 1}
    )


def test_a_redelivered_message_changes_nothing(rig: Rig) -> None:
    case = case_history()
    pdq = pdq_of(case.opened)
    rig.handle(CASES, 0, case.opened)
    rig.handle(ACTIONS, 0, report("alpha", pdq, ActionKind.UNDER_REVIEW, minutes=1))
    rig.handle(ACTIONS, 1, report("alpha", pdq, ActionKind.NOT_VIOLATING, minutes=2))
    before = rig.reach(case.opened)
    assert before.actions["not_violating"] == 1
    # After a rebalance the consumer is handed offsets 0 and 1 again.
    rig.handle(ACTIONS, 0, report("alpha", pdq, ActionKind.REMOVED, minutes=9))
    rig.handle(ACTIONS, 1, report("alpha", pdq, ActionKind.REMOVED, minutes=9))
    assert rig.reach(case.opened) == before
    assert rig.model.position(ACTIONS, 0) == 2


def test_a_message_of_a_topic_it_does_not_read_is_skipped_and_its_position_advances(
    rig: Rig,
) -> None:
    rig.handle(f"{NS}.haven.hashlist.v1", 4, b"whatever it is")
    rig.handle("haven.cases.v1", 0, case_history().opened)  # another namespace's topic
    assert rig.model.position(f"{NS}.haven.hashlist.v1", 0) == 5
    assert rig.model.position("haven.cases.v1", 0) == 1
    assert rig.model.state.cases == {}


@pytest.mark.parametrize("topic", [CASES, DELIVERIES, MATCHES, ACTIONS])
@pytest.mark.parametrize("value", [b"not json", b"{}", b""])
def test_a_poison_message_raises_for_the_dead_letter_queue_and_applies_nothing(
    rig: Rig, topic: str, value: bytes
) -> None:
    with pytest.raises(ValidationError):
        rig.handle(topic, 3, value)
    assert rig.model.position(topic, 0) is None  # not applied: the loop dead-letters it


def test_each_partition_starts_where_the_read_model_left_off(rig: Rig) -> None:
    rig.handle(CASES, 6, case_history().opened)
    partitions = [TopicPartition(CASES, 0), TopicPartition(CASES, 1), TopicPartition(MATCHES, 0)]
    rig.projector.start_positions(partitions)
    assert [tp.offset for tp in partitions] == [7, OFFSET_BEGINNING, OFFSET_BEGINNING]
    rig.model.state.clear()  # Redis lost the model: everything replays from the beginning
    rig.projector.start_positions(partitions)
    assert [tp.offset for tp in partitions] == [OFFSET_BEGINNING] * 3
