"""The ``ReadModel`` contract: what the status projector relies on, observed the way a status
read observes it (through the ``CaseStorage`` that shares the model)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import pytest

from services.intake.adapters.ports import CaseStorage, Position, ReadModel
from services.intake.domain import KeyFacts
from tests.contract.cases import case_history
from tests.contract.loop import AsyncContract, EventLoopThread

CASES, DELIVERIES, MATCHES, ACTIONS = (
    "ns.haven.cases.v1",
    "ns.haven.deliveries.v1",
    "ns.haven.matches.v1",
    "ns.haven.actions.v1",
)
PDQ, MD5 = "pdq:" + "1" * 64, "md5:" + "2" * 32
# Report ranks as the projector makes them: fixed width, so string order is report order.
EARLY, LATE = f"{1:020d}", f"{2:020d}"


class ReadModelContract(AsyncContract, ABC):
    @pytest.fixture
    @abstractmethod
    def read_model(self, aio: EventLoopThread) -> ReadModel:
        """A fresh, empty adapter."""

    @pytest.fixture
    @abstractmethod
    def case_storage(self, read_model: ReadModel, aio: EventLoopThread) -> CaseStorage:
        """The API's view of the same model."""

    @pytest.fixture
    @abstractmethod
    def wipe(self, read_model: ReadModel) -> Callable[[], None]:
        """Lose everything the model holds (Redis emptied under a running intake)."""

    def test_a_projected_snapshot_is_what_a_status_read_gets(
        self, read_model: ReadModel, case_storage: CaseStorage, aio: EventLoopThread
    ) -> None:
        case = case_history()
        assert read_model.apply_case(Position(CASES, 0, 0), case.opened)
        assert aio.run(case_storage.get(case.number)) == case.opened

    def test_the_newest_snapshot_wins_whatever_order_they_come_in(
        self, read_model: ReadModel, case_storage: CaseStorage, aio: EventLoopThread
    ) -> None:
        case = case_history()
        aio.run(case_storage.put(case.withdrawn))  # the API wrote through first
        assert read_model.apply_case(Position(CASES, 0, 0), case.opened)
        assert aio.run(case_storage.get(case.number)) == case.withdrawn
        other = case_history()
        read_model.apply_case(Position(CASES, 1, 0), other.added)
        # A replay of an older snapshot at a later offset advances, and changes nothing.
        assert read_model.apply_case(Position(CASES, 1, 1), other.opened)
        assert aio.run(case_storage.get(other.number)) == other.added
        assert read_model.position(CASES, 1) == 2

    def test_a_redelivered_offset_changes_nothing(
        self, read_model: ReadModel, case_storage: CaseStorage, aio: EventLoopThread
    ) -> None:
        at = Position(MATCHES, 0, 7)
        assert read_model.apply_matched(at, PDQ, "alpha")
        # Whatever a redelivery carries, its offset was applied already.
        assert not read_model.apply_matched(at, PDQ, "beta")
        assert not read_model.apply_delivered(at, [PDQ], "beta")
        assert not read_model.apply_action(at, PDQ, "beta", rank=LATE, action="removed")
        assert not read_model.skip(at)
        case = case_history()
        assert not read_model.apply_case(at, case.opened)
        assert aio.run(case_storage.facts([PDQ])) == {PDQ: KeyFacts(matched={"alpha"})}
        assert aio.run(case_storage.get(case.number)) is None
        assert read_model.position(MATCHES, 0) == 8

    def test_positions_advance_per_topic_and_partition(self, read_model: ReadModel) -> None:
        assert read_model.position(DELIVERIES, 0) is None
        assert read_model.skip(Position(DELIVERIES, 0, 0))
        assert read_model.position(DELIVERIES, 0) == 1
        assert read_model.apply_delivered(Position(DELIVERIES, 0, 5), [PDQ], "alpha")
        assert read_model.position(DELIVERIES, 0) == 6
        assert not read_model.skip(Position(DELIVERIES, 0, 3))  # behind the position
        assert read_model.position(DELIVERIES, 0) == 6
        assert read_model.position(DELIVERIES, 1) is None
        assert read_model.position(MATCHES, 0) is None
        assert read_model.skip(Position(DELIVERIES, 1, 0))
        assert read_model.position(DELIVERIES, 1) == 1

    def test_facts_are_joined_by_fingerprint_key(
        self, read_model: ReadModel, case_storage: CaseStorage, aio: EventLoopThread
    ) -> None:
        read_model.apply_delivered(Position(DELIVERIES, 0, 0), [PDQ, MD5], "alpha")
        read_model.apply_delivered(Position(DELIVERIES, 1, 0), [MD5], "beta")
        read_model.apply_delivered(Position(DELIVERIES, 0, 1), [PDQ], "alpha")  # again: a set
        read_model.apply_matched(Position(MATCHES, 0, 0), PDQ, "alpha")
        read_model.apply_action(Position(ACTIONS, 0, 0), PDQ, "alpha", rank=EARLY, action="removed")
        unknown = "md5:" + "3" * 32
        assert aio.run(case_storage.facts([PDQ, MD5, unknown])) == {
            PDQ: KeyFacts(
                delivered={"alpha"}, matched={"alpha"}, actions={"alpha": (EARLY, "removed")}
            ),
            MD5: KeyFacts(delivered={"alpha", "beta"}),
            unknown: KeyFacts(),
        }

    def test_per_platform_the_latest_report_counts_whatever_order_they_come_in(
        self, read_model: ReadModel, case_storage: CaseStorage, aio: EventLoopThread
    ) -> None:
        read_model.apply_action(Position(ACTIONS, 0, 0), PDQ, "alpha", rank=LATE, action="removed")
        read_model.apply_action(
            Position(ACTIONS, 0, 1), PDQ, "alpha", rank=EARLY, action="under_review"
        )
        read_model.apply_action(Position(ACTIONS, 0, 2), PDQ, "beta", rank=EARLY, action="blocked")
        read_model.apply_action(
            Position(ACTIONS, 0, 3), PDQ, "beta", rank=LATE, action="not_violating"
        )
        facts = aio.run(case_storage.facts([PDQ]))[PDQ]
        assert facts.actions == {"alpha": (LATE, "removed"), "beta": (LATE, "not_violating")}

    def test_the_epoch_marker_is_gone_once_the_model_is_lost(
        self,
        read_model: ReadModel,
        case_storage: CaseStorage,
        wipe: Callable[[], None],
        aio: EventLoopThread,
    ) -> None:
        assert read_model.epoch_lost()  # never marked
        read_model.mark_epoch("instance-1")
        assert not read_model.epoch_lost()
        read_model.mark_epoch("instance-2")  # another instance's marker is as good
        assert not read_model.epoch_lost()
        case = case_history()
        read_model.apply_case(Position(CASES, 0, 0), case.opened)
        read_model.apply_matched(Position(MATCHES, 0, 0), PDQ, "alpha")
        wipe()
        assert read_model.epoch_lost()
        # Positions went with the state, so the projector replays from the beginning.
        assert read_model.position(CASES, 0) is None
        assert read_model.position(MATCHES, 0) is None
        assert aio.run(case_storage.get(case.number)) is None
        assert aio.run(case_storage.facts([PDQ])) == {PDQ: KeyFacts()}
