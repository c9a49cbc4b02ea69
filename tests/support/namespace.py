"""Test namespaces: every contract topic under a fresh prefix, dropped when the test is done.

A namespace keeps one test's events out of another's counts. Left behind, they pile up: one
fresh-clone run used to leave 493 topics on the local broker. ``new_namespace`` creates the
topics and registers a finalizer on the requesting fixture or test that deletes every topic
of the namespace (including ones the services made, such as ``haven.platform.<id>.v1``) and
every Redis key under its prefix, after that fixture's own teardown has stopped the services.
"""

from __future__ import annotations

import uuid

import pytest
import redis
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from schemas.bootstrap import ensure_topics
from schemas.topics import all_topics


def namespace_topics(bootstrap: str, namespace: str) -> list[str]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    return sorted(n for n in admin.list_topics(timeout=30).topics if n.startswith(namespace + "."))


def drop_namespace(bootstrap: str, redis_url: str, namespace: str) -> None:
    """Delete the namespace's topics and Redis keys (``<namespace>.*`` and ``<namespace>:*``)."""
    names = namespace_topics(bootstrap, namespace)
    if names:
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for future in admin.delete_topics(names, operation_timeout=30).values():
            try:
                future.result(60)
            except KafkaException as exc:
                if exc.args[0].name() != "UNKNOWN_TOPIC_OR_PART":
                    raise
    client = redis.Redis.from_url(redis_url)
    try:
        doomed = list(client.scan_iter(match=f"{namespace}:*", count=1000))
        for start in range(0, len(doomed), 1000):
            client.delete(*doomed[start : start + 1000])
    finally:
        client.close()


def new_namespace(request: pytest.FixtureRequest, prefix: str) -> str:
    """A fresh namespace with every contract topic, dropped when ``request``'s scope ends."""
    bootstrap: str = request.getfixturevalue("kafka_bootstrap")
    redis_url: str = request.getfixturevalue("redis_url")
    namespace = f"{prefix}{uuid.uuid4().hex[:10]}"
    ensure_topics(bootstrap, all_topics(), namespace=namespace)
    request.addfinalizer(lambda: drop_namespace(bootstrap, redis_url, namespace))
    return namespace
