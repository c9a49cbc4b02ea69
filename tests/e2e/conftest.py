"""The four services running as real processes against the real broker and Redis."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from schemas.security import KafkaAccess
from tests.support import intake
from tests.support.namespace import new_namespace
from tests.support.services import SERVICE_NAMES, ServiceProcess, service_env


@dataclass
class Stack:
    services: dict[str, ServiceProcess]
    data_dir: Path
    namespace: str

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.services[name]

    def url(self, name: str) -> str:
        return self.services[name].url

    def open_case(
        self, items: list[dict[str, Any]], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Open a case through intake (solving its proof-of-work); the 201 body."""
        return intake.open_case(self.url("intake"), items, idempotency_key=idempotency_key)

    def add_media(self, number: str, secret: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        return intake.add_media(self.url("intake"), number, secret, items)

    def case_status(self, number: str, secret: str) -> dict[str, Any]:
        return intake.case_status(self.url("intake"), number, secret)

    def withdraw(self, number: str, secret: str) -> dict[str, Any]:
        return intake.withdraw_case(self.url("intake"), number, secret)


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest,
    kafka_bootstrap: KafkaAccess,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """The four services in a namespace of this module's own: one module's cases, platforms
    and poison never show up in another's matches, counts or logs."""
    namespace = new_namespace(request, "e")
    data_dir = tmp_path_factory.mktemp("haven-data")
    env = service_env(
        kafka=kafka_bootstrap, redis=redis_url, namespace=namespace, data_dir=data_dir
    )
    services = {name: ServiceProcess(name, env, data_dir) for name in SERVICE_NAMES}
    for service in services.values():
        service.start()
    try:
        for service in services.values():
            service.wait_ready()
        yield Stack(services, data_dir, namespace)
    finally:
        for service in services.values():
            service.stop()
