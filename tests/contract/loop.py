"""An event loop in a thread of its own, for driving async adapters from sync tests.

Not ``asyncio.run``: the browser tests' Playwright keeps an event loop running in the main
thread for the whole session, and an async Redis client must be used and closed on the loop
it first ran on, so one loop lives as long as the test's fixtures.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


class EventLoopThread:
    """Runs coroutines to completion on one loop in a background thread."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], *, timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


class AsyncContract:
    """Gives a suite (and the fixtures of its concrete subclasses) the ``aio`` loop."""

    @pytest.fixture
    def aio(self) -> Iterator[EventLoopThread]:
        loop = EventLoopThread()
        yield loop
        loop.close()
