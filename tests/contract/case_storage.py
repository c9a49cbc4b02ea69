"""The ``CaseStorage`` contract: what the API relies on when it reads and writes cases."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod

import pytest

from services.intake.adapters.ports import CaseLocked, CaseStorage
from services.intake.domain import KeyFacts
from tests.contract.cases import case_history
from tests.contract.loop import AsyncContract, EventLoopThread


class CaseStorageContract(AsyncContract, ABC):
    @pytest.fixture
    @abstractmethod
    def case_storage(self, aio: EventLoopThread) -> CaseStorage:
        """A fresh, empty adapter (used on ``aio``'s loop)."""

    def test_a_case_never_written_is_not_there(
        self, case_storage: CaseStorage, aio: EventLoopThread
    ) -> None:
        assert aio.run(case_storage.get(case_history().number)) is None

    def test_a_snapshot_written_through_is_read_back(
        self, case_storage: CaseStorage, aio: EventLoopThread
    ) -> None:
        case = case_history()
        aio.run(case_storage.put(case.opened))
        assert aio.run(case_storage.get(case.number)) == case.opened

    def test_a_newer_snapshot_replaces_an_older_one_but_never_the_reverse(
        self, case_storage: CaseStorage, aio: EventLoopThread
    ) -> None:
        case = case_history()
        aio.run(case_storage.put(case.opened))
        aio.run(case_storage.put(case.added))
        assert aio.run(case_storage.get(case.number)) == case.added
        aio.run(case_storage.put(case.withdrawn))
        # A slow request writing through what it read before the withdrawal changes nothing.
        aio.run(case_storage.put(case.added))
        aio.run(case_storage.put(case.opened))
        assert aio.run(case_storage.get(case.number)) == case.withdrawn

    def test_cases_are_kept_apart(self, case_storage: CaseStorage, aio: EventLoopThread) -> None:
        first, second = case_history(), case_history()
        aio.run(case_storage.put(first.withdrawn))
        aio.run(case_storage.put(second.opened))
        assert aio.run(case_storage.get(first.number)) == first.withdrawn
        assert aio.run(case_storage.get(second.number)) == second.opened

    def test_facts_of_keys_nobody_reported_on_are_empty(
        self, case_storage: CaseStorage, aio: EventLoopThread
    ) -> None:
        keys = ["pdq:" + "a" * 64, "md5:" + "b" * 32]
        assert aio.run(case_storage.facts(keys)) == {key: KeyFacts() for key in keys}
        assert aio.run(case_storage.facts([])) == {}

    def test_a_held_lock_keeps_a_second_request_out_until_its_timeout(
        self, case_storage: CaseStorage, aio: EventLoopThread
    ) -> None:
        async def contend() -> None:
            async with case_storage.lock("case-a", timeout=1.0):
                with pytest.raises(CaseLocked):
                    async with case_storage.lock("case-a", timeout=0.1):
                        pytest.fail("two holders of one case's lock")
                # Another case's lock is not held up by this one.
                async with case_storage.lock("case-b", timeout=0.1):
                    pass
            async with case_storage.lock("case-a", timeout=0.1):
                pass  # released when the block ended

        aio.run(contend())

    def test_a_waiting_request_gets_the_lock_once_the_holder_is_done(
        self, case_storage: CaseStorage, aio: EventLoopThread
    ) -> None:
        order: list[str] = []

        async def hold() -> None:
            async with case_storage.lock("case-a", timeout=1.0):
                order.append("first in")
                await asyncio.sleep(0.2)
                order.append("first out")

        async def wait() -> None:
            await asyncio.sleep(0.05)
            async with case_storage.lock("case-a", timeout=5.0):
                order.append("second in")

        async def both() -> None:
            await asyncio.gather(hold(), wait())

        aio.run(both())
        assert order == ["first in", "first out", "second in"]

    def test_the_lock_is_released_when_the_block_fails(
        self, case_storage: CaseStorage, aio: EventLoopThread
    ) -> None:
        async def fail_inside() -> None:
            async with case_storage.lock("case-a", timeout=1.0):
                raise RuntimeError("the request failed")

        with pytest.raises(RuntimeError, match="the request failed"):
            aio.run(fail_inside())

        async def again() -> None:
            async with case_storage.lock("case-a", timeout=0.1):
                pass

        aio.run(again())
