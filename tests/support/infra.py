"""Finding Kafka and Redis for the tests, in the documented order.

1. ``HAVEN_KAFKA_BOOTSTRAP`` / ``HAVEN_REDIS_URL`` when set;
2. testcontainers (``KafkaContainer``, ``RedisContainer``) when a Docker engine answers;
3. otherwise the local processes of ``deploy/local/stack.py`` (started if not running).

A broker that does not answer is an error, never a skip: integration tests must not pass
without the real thing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from confluent_kafka.admin import AdminClient

from deploy.local import stack


class InfraUnavailable(RuntimeError):
    """Kafka or Redis did not answer."""


def require_tool(name: str, *, package: str) -> str:
    """The path of ``name`` (a command, or an absolute path); fails the test, naming the
    Debian package to install, when it is missing. Never a skip: CI would report it green."""
    found = name if Path(name).is_absolute() and Path(name).exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: install the Debian package {package!r}", pytrace=False)
    return found


def require_local_broker(bootstrap: str, why: str) -> None:
    """Fail unless ``bootstrap`` is the local broker this run started (tests that kill and
    restart it need it)."""
    if bootstrap != stack.KAFKA_BOOTSTRAP or stack.running_pid("kafka") is None:
        pytest.fail(f"{why} needs the local broker that `make test` starts", pytrace=False)


def docker_engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def require_kafka(bootstrap: str, *, timeout: float = 15.0) -> str:
    """Fail loudly unless a broker answers metadata requests at ``bootstrap``."""
    admin = AdminClient(
        {"bootstrap.servers": bootstrap, "socket.connection.setup.timeout.ms": 3000}
    )
    try:
        admin.list_topics(timeout=timeout)
    except Exception as exc:
        raise InfraUnavailable(f"no Kafka broker answers at {bootstrap}: {exc}") from exc
    return bootstrap


def require_redis(url: str) -> str:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or 6379), 5
        ) as s:
            s.sendall(b"PING\r\n")
            if not s.recv(16).startswith(b"+PONG"):
                raise InfraUnavailable(f"Redis at {url} did not answer PING")
    except OSError as exc:
        raise InfraUnavailable(f"no Redis answers at {url}: {exc}") from exc
    return url


@contextlib.contextmanager
def kafka() -> Iterator[str]:
    if bootstrap := os.environ.get("HAVEN_KAFKA_BOOTSTRAP"):
        yield require_kafka(bootstrap)
    elif docker_engine_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as container:
            yield require_kafka(container.get_bootstrap_server())
    else:
        stack.ensure_kafka()
        yield require_kafka(stack.KAFKA_BOOTSTRAP)


@contextlib.contextmanager
def redis() -> Iterator[str]:
    if url := os.environ.get("HAVEN_REDIS_URL"):
        yield require_redis(url)
    elif docker_engine_answers():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7") as container:
            host = container.get_container_host_ip()
            port = container.get_exposed_port(6379)
            yield require_redis(f"redis://{host}:{port}/0")
    else:
        stack.ensure_redis()
        yield require_redis(stack.REDIS_URL)
