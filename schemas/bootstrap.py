"""Bootstrap a deployment's broker, idempotently: principals, topics and ACLs.

Run as ``python -m schemas.bootstrap`` (``make up`` does) with the operator's ``admin``
credential. It
- creates or updates the SCRAM-SHA-512 credential of every service principal and of the
  provisioner, from ``HAVEN_<SERVICE>_KAFKA_PASSWORD`` and
  ``HAVEN_DISTRIBUTOR_PROVISIONER_PASSWORD`` (the broker keeps only salted hashes);
- creates the topics that do not exist yet, and sets the configuration of those that did to
  their spec's (so an upgrade that raises a limit reaches existing topics);
- creates each principal's ACLs from ``schemas.security.ACCESS``.

Reads ``HAVEN_KAFKA_BOOTSTRAP``, ``HAVEN_KAFKA_USERNAME``/``HAVEN_KAFKA_PASSWORD`` (the admin),
``HAVEN_KAFKA_CA_FILE`` and ``HAVEN_KAFKA_NAMESPACE``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._acl import AclBindingFilter, AclOperation, AclPermissionType
from confluent_kafka.admin._config import AlterConfigOpType, ConfigEntry, ConfigResource
from confluent_kafka.admin._resource import ResourcePatternType, ResourceType
from confluent_kafka.admin._scram import (
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)
from confluent_kafka.cimpl import NewTopic

from schemas.security import (
    PROVISIONER,
    SCRAM_MECHANISM,
    SERVICES,
    Grant,
    KafkaAccess,
    acl_bindings,
    grants_of,
)
from schemas.topics import TopicSpec, all_topics, qualified

SCRAM_ITERATIONS = 8192


def admin_client(kafka: KafkaAccess) -> AdminClient:
    return AdminClient(kafka.config())


def ensure_topics(
    kafka: KafkaAccess,
    specs: tuple[TopicSpec, ...],
    *,
    namespace: str = "",
    timeout: float = 60.0,
) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = admin_client(kafka)
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [
        NewTopic(
            qualified(spec.name, namespace),
            num_partitions=spec.partitions,
            replication_factor=1,
            config=spec.config,
        )
        for spec in specs
        if qualified(spec.name, namespace) not in existing
    ]
    if not wanted:
        return []
    created: list[str] = []
    for name, future in admin.create_topics(wanted, request_timeout=timeout).items():
        try:
            future.result(timeout=timeout)
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise
    return created


def converge_configs(
    kafka: KafkaAccess, specs: tuple[TopicSpec, ...], *, namespace: str = "", timeout: float = 60
) -> None:
    """Set every topic's configuration to its spec's (e.g. a larger ``max.message.bytes``
    after an upgrade), for topics that existed before; the admin does this, never a service."""
    resources = [
        ConfigResource(
            ResourceType.TOPIC,
            qualified(spec.name, namespace),
            incremental_configs=[
                ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET)
                for name, value in spec.config.items()
            ],
        )
        for spec in specs
    ]
    admin = admin_client(kafka)
    for future in admin.incremental_alter_configs(resources, request_timeout=timeout).values():
        future.result(timeout)


def set_passwords(kafka: KafkaAccess, passwords: Mapping[str, str], timeout: float = 30) -> None:
    """Create or replace the SCRAM credential of each user (the broker stores salted hashes)."""
    if not passwords:
        return
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
    changes: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(user, info, password.encode())
        for user, password in passwords.items()
    ]
    admin = admin_client(kafka)  # kept referenced until every future is done
    for future in admin.alter_user_scram_credentials(changes).values():
        future.result(timeout)


def delete_user(kafka: KafkaAccess, user: str, timeout: float = 30) -> None:
    """Remove a user's SCRAM credential (an unknown user is no error)."""
    deletion: list[UserScramCredentialAlteration] = [
        UserScramCredentialDeletion(user, ScramMechanism.SCRAM_SHA_512)
    ]
    admin = admin_client(kafka)
    for future in admin.alter_user_scram_credentials(deletion).values():
        try:
            future.result(timeout)
        except KafkaException as exc:
            if exc.args[0].name() != "RESOURCE_NOT_FOUND":
                raise


def grant(
    kafka: KafkaAccess,
    principal: str,
    grants: tuple[Grant, ...],
    *,
    namespace: str = "",
    timeout: float = 30,
) -> None:
    """Create ``principal``'s ACLs (an ACL that exists already is no error)."""
    bindings = acl_bindings(principal, grants, namespace)
    admin = admin_client(kafka)
    for future in admin.create_acls(bindings, request_timeout=timeout).values():
        future.result(timeout)


def revoke(kafka: KafkaAccess, principal: str, timeout: float = 30) -> None:
    """Delete every ACL of ``principal``."""
    # None matches any resource name and any host (the stubs type both as str).
    match_all = AclBindingFilter(
        ResourceType.ANY,
        None,  # type: ignore[arg-type]
        ResourcePatternType.ANY,
        f"User:{principal}",
        None,  # type: ignore[arg-type]
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    admin = admin_client(kafka)
    for future in admin.delete_acls([match_all], request_timeout=timeout).values():
        future.result(timeout)


def bootstrap(
    kafka: KafkaAccess, *, namespace: str = "", passwords: Mapping[str, str] | None = None
) -> list[str]:
    """Principals (when ``passwords`` are given), every topic, every service's ACLs."""
    set_passwords(kafka, passwords or {})
    created = ensure_topics(kafka, all_topics(), namespace=namespace)
    existed = tuple(s for s in all_topics() if qualified(s.name, namespace) not in created)
    if existed:
        converge_configs(kafka, existed, namespace=namespace)
    for principal in (*SERVICES, PROVISIONER):
        grant(kafka, principal, grants_of(principal), namespace=namespace)
    return created


def principal_passwords(environ: Mapping[str, str]) -> dict[str, str]:
    """The service and provisioner passwords the environment holds."""
    names = {f"HAVEN_{service.upper()}_KAFKA_PASSWORD": service for service in SERVICES}
    names["HAVEN_DISTRIBUTOR_PROVISIONER_PASSWORD"] = PROVISIONER
    return {user: environ[name] for name, user in names.items() if environ.get(name)}


def env_access(environ: Mapping[str, str]) -> KafkaAccess:
    return KafkaAccess(
        environ.get("HAVEN_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
        environ.get("HAVEN_KAFKA_USERNAME"),
        environ.get("HAVEN_KAFKA_PASSWORD"),
        environ.get("HAVEN_KAFKA_CA_FILE"),
        environ.get("HAVEN_KAFKA_SASL_MECHANISM", SCRAM_MECHANISM),
    )


def wait_until_principals_log_in(
    kafka: KafkaAccess, passwords: Mapping[str, str], timeout: float = 90
) -> None:
    """Poll until every principal of ``passwords`` authenticates (the broker applies a new
    SCRAM credential asynchronously); renew a credential that keeps failing."""
    deadline = time.monotonic() + timeout
    pending = dict(passwords)
    while pending:
        for user, password in list(pending.items()):
            try:
                admin_client(kafka.as_user(user, password)).list_topics(timeout=5)
                del pending[user]
            except KafkaException:
                set_passwords(kafka, {user: password})
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"principals cannot log in: {sorted(pending)}")
        if pending:
            time.sleep(0.5)


def main() -> None:
    namespace = os.environ.get("HAVEN_KAFKA_NAMESPACE", "")
    passwords = principal_passwords(os.environ)
    if "--principals-only" in sys.argv:
        set_passwords(env_access(os.environ), passwords)
        wait_until_principals_log_in(env_access(os.environ), passwords)
        return
    created = bootstrap(env_access(os.environ), namespace=namespace, passwords=passwords)
    wait_until_principals_log_in(env_access(os.environ), passwords)
    print(
        f"[haven] principals: {len(passwords)} set; topics: {len(created)} created, "
        f"{len(all_topics()) - len(created)} existed; ACLs of {len(SERVICES) + 1} principals"
    )


if __name__ == "__main__":
    main()
