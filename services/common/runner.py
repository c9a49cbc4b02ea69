"""Process lifecycle shared by the services: background workers and the uvicorn entry point.

A service's ``app.py`` builds a FastAPI app whose lifespan starts a ``Workers`` set (consumer
loops in threads) and stops them on shutdown. Uvicorn turns SIGTERM into a graceful shutdown,
which stops the loops, commits their stored offsets and flushes the producer.
"""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Callable
from typing import Protocol

import uvicorn
from fastapi import FastAPI

from services.common.logging import configure_logging

log = logging.getLogger(__name__)


class Worker(Protocol):
    """Anything with a blocking ``run`` and a ``stop`` that makes it return."""

    def run(self) -> None: ...

    def stop(self) -> None: ...


class SessionWorker:
    """A worker whose session (connect, rebuild, consume) starts over after any failure.

    Subclasses implement ``_session``, which runs until ``self._stopping`` is set; ``ready`` is
    theirs to raise once caught up, and drops whenever a session fails.
    """

    restart_delay_s = 1.0

    def __init__(self) -> None:
        self.ready = False
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._session()
            except Exception:
                self.ready = False
                log.exception(
                    "session failed; starting over", extra={"worker": type(self).__name__}
                )
                self._stopping.wait(self.restart_delay_s)

    def _session(self) -> None:
        raise NotImplementedError


class Workers:
    """Background workers of a service, each in a daemon thread."""

    def __init__(self) -> None:
        self._workers: list[tuple[Worker, threading.Thread]] = []

    def start(self, name: str, worker: Worker) -> None:
        thread = threading.Thread(target=self._guard(name, worker), name=name, daemon=True)
        self._workers.append((worker, thread))
        thread.start()

    @staticmethod
    def _guard(name: str, worker: Worker) -> Callable[[], None]:
        def run() -> None:
            try:
                worker.run()
            except Exception:
                log.exception("worker stopped", extra={"worker": name})

        return run

    def stop(self, timeout: float = 15.0) -> None:
        for worker, _ in self._workers:
            worker.stop()
        for _, thread in self._workers:
            thread.join(timeout)


def serve(
    app_factory: Callable[[], FastAPI], *, default_port: int, log_level: str = "INFO"
) -> None:
    """``python -m services.<name> [--host H] [--port P] [--limit-concurrency N]``.

    Slow clients cannot exhaust the process: beyond ``--limit-concurrency`` connections and
    requests at once uvicorn answers 503 at once, an idle keep-alive connection is closed
    after 5 s, and a request head larger than 16 KB is refused (h11's limit)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--limit-concurrency", type=int, default=512)
    args = parser.parse_args()
    configure_logging(log_level)
    uvicorn.run(
        app_factory(),
        host=args.host,
        port=args.port,
        access_log=False,  # uvicorn's access log prints client addresses; ours does not.
        log_config=None,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=10,
        limit_concurrency=args.limit_concurrency,
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=16_384,
    )
