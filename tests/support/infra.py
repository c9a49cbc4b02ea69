"""Finding Kafka and Redis for the tests, in the documented order.

1. ``HAVEN_KAFKA_BOOTSTRAP`` / ``HAVEN_REDIS_URL`` when set (with the broker's ``admin``
   credential in ``HAVEN_KAFKA_USERNAME``/``HAVEN_KAFKA_PASSWORD``/``HAVEN_KAFKA_CA_FILE``
   and the service principals' passwords in ``HAVEN_<SERVICE>_KAFKA_PASSWORD``);
2. otherwise the local processes of ``deploy/local/stack.py`` (started if not running), whose
   broker is secured the same way with the development secrets of ``.state/``.

The test process itself is the operator: it connects as ``admin`` (a super user) to make
topics and ACLs and to read back what the services wrote. The services it starts run as their
own principals. A broker that does not answer is an error, never a skip: integration tests
must not pass without the real thing. (There is no testcontainers path: a container broker
would be unsecured, and the suite proves the ACLs.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import redis as redis_client
from confluent_kafka.admin import AdminClient

from deploy.local import stack
from schemas.bootstrap import env_access, principal_passwords, set_passwords
from schemas.security import SERVICES, KafkaAccess


class InfraUnavailable(RuntimeError):
    """Kafka or Redis did not answer."""


def require_tool(name: str, *, package: str) -> str:
    """The path of ``name`` (a command, or an absolute path); fails the test, naming the
    Debian package to install, when it is missing. Never a skip: CI would report it green."""
    found = name if Path(name).is_absolute() and Path(name).exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: install the Debian package {package!r}", pytrace=False)
    return found


def require_local_broker(kafka: KafkaAccess, why: str) -> None:
    """Fail unless ``kafka`` is the local broker this run started (tests that kill and
    restart it need it)."""
    if kafka.bootstrap != stack.KAFKA_BOOTSTRAP or stack.running_pid("kafka") is None:
        pytest.fail(f"{why} needs the local broker that `make test` starts", pytrace=False)


def require_kafka(kafka: KafkaAccess, *, timeout: float = 15.0) -> None:
    """Fail loudly unless the broker answers the admin's metadata requests."""
    admin = AdminClient(kafka.config() | {"socket.connection.setup.timeout.ms": 3000})
    try:
        admin.list_topics(timeout=timeout)
    except Exception as exc:
        raise InfraUnavailable(f"no Kafka broker answers at {kafka.bootstrap}: {exc}") from exc


def require_redis(url: str) -> str:
    """Fail loudly unless Redis answers PING for the (admin) user of ``url``."""
    client = redis_client.Redis.from_url(url, socket_timeout=5)
    try:
        client.ping()
    except redis_client.RedisError as exc:
        host = urlparse(url).hostname
        raise InfraUnavailable(f"no Redis answers at {host}: {type(exc).__name__}") from exc
    finally:
        client.close()
    return url


def without_credentials(url: str) -> str:
    parsed = urlparse(url)
    return parsed._replace(netloc=parsed.netloc.rpartition("@")[2]).geturl()


def redis_service_env() -> dict[str, str]:
    """intake's own Redis password (its ACL user sees only ``*:intake:*`` keys)."""
    name = "HAVEN_INTAKE_REDIS_PASSWORD"
    if os.environ.get("HAVEN_REDIS_URL"):
        return {name: os.environ[name]} if name in os.environ else {}
    return {name: stack.dev_secrets()[name]}


def kafka_env() -> dict[str, str]:
    """The broker's address, CA and the principals' passwords (never the admin's) for the
    services a test starts."""
    if os.environ.get("HAVEN_KAFKA_BOOTSTRAP"):
        wanted = ("HAVEN_KAFKA_BOOTSTRAP", "HAVEN_KAFKA_CA_FILE", *principal_password_names())
        return {name: os.environ[name] for name in wanted if name in os.environ}
    return stack.kafka_service_env()


def principal_password_names() -> list[str]:
    return [
        *(f"HAVEN_{service.upper()}_KAFKA_PASSWORD" for service in SERVICES),
        "HAVEN_DISTRIBUTOR_PROVISIONER_PASSWORD",
    ]


@contextlib.contextmanager
def kafka() -> Iterator[KafkaAccess]:
    if os.environ.get("HAVEN_KAFKA_BOOTSTRAP"):
        admin = env_access(os.environ)
    else:
        stack.ensure_kafka()
        admin = env_access(stack.kafka_admin_env())
    require_kafka(admin)
    set_passwords(admin, principal_passwords(kafka_env()))
    yield admin


@contextlib.contextmanager
def redis() -> Iterator[str]:
    if url := os.environ.get("HAVEN_REDIS_URL"):
        yield require_redis(url)
    else:
        stack.ensure_redis()
        yield require_redis(stack.redis_admin_url())
