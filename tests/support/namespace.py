"""Test namespaces: every contract topic under a fresh prefix, dropped when the test is done.

A namespace keeps one test's events out of another's counts, and its ACLs (``schemas.security``,
made by ``schemas.bootstrap``) let the services' principals touch only its topics. Left behind, they pile up: one
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
from confluent_kafka.admin._acl import AclBindingFilter, AclOperation, AclPermissionType
from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

from schemas.bootstrap import bootstrap, delete_user
from schemas.security import KafkaAccess


def namespace_topics(kafka: KafkaAccess, namespace: str) -> list[str]:
    admin = AdminClient(kafka.config())
    return sorted(n for n in admin.list_topics(timeout=30).topics if n.startswith(namespace + "."))


def drop_acls(kafka: KafkaAccess, namespace: str) -> None:
    """Delete every ACL on a resource of the namespace (and the namespace's platform users)."""
    admin = AdminClient(kafka.config())
    every = AclBindingFilter(
        ResourceType.ANY,
        None,  # type: ignore[arg-type]
        ResourcePatternType.ANY,
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    bindings = admin.describe_acls(every, request_timeout=30).result(30)
    doomed = [
        AclBindingFilter(
            b.restype,
            b.name,
            b.resource_pattern_type,
            b.principal,
            b.host,
            b.operation,
            b.permission_type,
        )
        for b in bindings
        if b.name.startswith(namespace + ".")
    ]
    if doomed:
        for future in admin.delete_acls(doomed, request_timeout=30).values():
            future.result(30)
    for principal in {
        b.principal for b in bindings if b.principal.startswith(f"User:{namespace}.")
    }:
        delete_user(kafka, principal.removeprefix("User:"))


def drop_namespace(kafka: KafkaAccess, redis_url: str, namespace: str) -> None:
    """Delete the namespace's topics, ACLs and Redis keys (``<namespace>.*``, ``<namespace>:*``)."""
    drop_acls(kafka, namespace)
    names = namespace_topics(kafka, namespace)
    if names:
        admin = AdminClient(kafka.config())
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
    kafka: KafkaAccess = request.getfixturevalue("kafka_bootstrap")
    redis_url: str = request.getfixturevalue("redis_url")
    namespace = f"{prefix}{uuid.uuid4().hex[:10]}"
    bootstrap(kafka, namespace=namespace)
    request.addfinalizer(lambda: drop_namespace(kafka, redis_url, namespace))
    return namespace
