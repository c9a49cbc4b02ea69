"""Cheap readiness probes of dependencies, cached so ``/readyz`` stays fast under polling."""

from __future__ import annotations

import threading
import time

from confluent_kafka.admin import AdminClient

from schemas.security import KafkaAccess


class KafkaProbe:
    """Is the broker answering metadata requests? Re-checked at most every ``ttl`` seconds."""

    def __init__(self, kafka: KafkaAccess, *, ttl: float = 2.0) -> None:
        self._admin = AdminClient(kafka.config())
        self._ttl = ttl
        self._checked = 0.0
        self._ok = False
        self._lock = threading.Lock()

    def reachable(self) -> bool:
        with self._lock:
            if time.monotonic() - self._checked > self._ttl:
                try:
                    self._admin.list_topics(timeout=1.0)
                    self._ok = True
                except Exception:
                    self._ok = False
                self._checked = time.monotonic()
            return self._ok
