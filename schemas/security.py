"""Who may do what on the broker: the principals, their access matrix, and how each connects.

This is the one place the Kafka permissions are written down. The ACLs the bootstrap step
creates (``schemas.bootstrap``), the README's table and the attack suite
(``tests/security``) are all derived from ``ACCESS``, so they cannot drift apart.

The broker's client listener takes only SASL/SCRAM-SHA-512 over TLS, the KRaft
``StandardAuthorizer`` runs with ``allow.everyone.if.no.acl.found=false``, and only ``admin``
(the operator's bootstrap principal) is a super user. Each service runs as its own principal:

- a service may READ the topics it consumes, WRITE the topics it produces, WRITE the
  dead-letter topics of what it consumes, and use consumer groups (and, for the distributor's
  registry, transactional ids) named under its own prefix ``haven.<service>.``;
- the distributor also creates and writes the per-platform topics ``haven.platform.<id>.v1``;
  the audit service reads them;
- ``provisioner`` (held only by the distributor's admin API) may create SCRAM credentials and
  ACLs: it gives a platform that uses the Kafka channel READ on its own topic and consumer
  groups prefixed ``haven.platform.<id>.``, and nothing else.

Every name is qualified with the deployment's namespace (``schemas.topics.qualified``), so a
test run's principals can touch only that run's topics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from schemas.topics import (
    ACTIONS,
    CASES,
    CHECKPOINTS,
    CONSUMED,
    DEADLETTERS,
    DELIVERIES,
    HASHLIST,
    MATCHES,
    PLATFORMS,
    SUBMISSIONS,
    TOPICS,
    WEBHOOK_FAILURES,
    TopicSpec,
    dlq_of,
    platform_topic,
    qualified,
)

SCRAM_MECHANISM = "SCRAM-SHA-512"
ADMIN = "admin"
PROVISIONER = "provisioner"
PLATFORM_TOPIC_PREFIX = "haven.platform."

Resource = Literal["topic", "group", "transactional_id", "cluster"]
Operation = Literal["READ", "WRITE", "CREATE", "DESCRIBE", "ALTER"]


@dataclass(frozen=True)
class KafkaAccess:
    """How one principal reaches the broker: its address, SCRAM credentials and the CA that
    signed the broker's certificate. Without a username the connection is PLAINTEXT, which
    the Haven broker refuses (the attack suite tries it)."""

    bootstrap: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    # SCRAM for every principal; a broker whose admin is a static PLAIN user (the
    # docker-compose one: the image cannot add SCRAM credentials at format) says PLAIN here.
    mechanism: str = SCRAM_MECHANISM

    def config(self) -> dict[str, Any]:
        """The librdkafka settings of this principal's connection."""
        config: dict[str, Any] = {"bootstrap.servers": self.bootstrap}
        if self.username is None:
            return config
        config |= {
            "security.protocol": "SASL_SSL",
            "sasl.mechanisms": self.mechanism,
            "sasl.username": self.username,
            "sasl.password": self.password or "",
        }
        if self.ca_file:
            config["ssl.ca.location"] = self.ca_file
        return config

    def as_user(self, username: str, password: str) -> KafkaAccess:
        """The same broker, reached as another (SCRAM) principal."""
        return KafkaAccess(self.bootstrap, username, password, self.ca_file)


@dataclass(frozen=True)
class Grant:
    """One ACL, before namespacing: ALLOW ``operations`` on a resource (``name`` literal, or
    every name starting with it when ``prefixed``)."""

    resource: Resource
    name: str
    operations: tuple[Operation, ...]
    prefixed: bool = False


@dataclass(frozen=True)
class ServiceAccess:
    """What one service's principal may do."""

    reads: tuple[TopicSpec, ...] = ()
    writes: tuple[TopicSpec, ...] = ()
    platform_topics: tuple[Operation, ...] = ()
    transactional: bool = False

    def grants(self, service: str) -> list[Grant]:
        topics: dict[str, set[Operation]] = {}
        for spec in self.reads:
            topics.setdefault(spec.name, set()).add("READ")
        for spec in self.writes:
            topics.setdefault(spec.name, set()).add("WRITE")
        consumed = [spec for spec in self.reads if spec in CONSUMED]
        for spec in consumed:  # a poison message goes to the DLQ of its topic
            topics.setdefault(dlq_of(spec).name, set()).add("WRITE")
        if consumed:
            topics.setdefault(DEADLETTERS.name, set()).add("WRITE")
        grants = [Grant("topic", name, tuple(sorted(ops))) for name, ops in sorted(topics.items())]
        grants.append(Grant("group", f"haven.{service}.", ("READ",), prefixed=True))
        if self.transactional:
            grants.append(
                Grant("transactional_id", f"haven.{service}.", ("DESCRIBE", "WRITE"), prefixed=True)
            )
        if self.platform_topics:
            grants.append(
                Grant("topic", PLATFORM_TOPIC_PREFIX, self.platform_topics, prefixed=True)
            )
        return grants


ACCESS: dict[str, ServiceAccess] = {
    "intake": ServiceAccess(
        reads=(CASES, DELIVERIES, MATCHES, ACTIONS), writes=(SUBMISSIONS, CASES)
    ),
    "distributor": ServiceAccess(
        reads=(SUBMISSIONS, HASHLIST, PLATFORMS, DELIVERIES),
        writes=(HASHLIST, PLATFORMS, DELIVERIES, WEBHOOK_FAILURES),
        platform_topics=("CREATE", "WRITE"),
        transactional=True,
    ),
    "matcher": ServiceAccess(reads=(HASHLIST, PLATFORMS, DELIVERIES), writes=(MATCHES, ACTIONS)),
    "audit": ServiceAccess(
        reads=tuple(spec for spec in TOPICS if spec is not CHECKPOINTS),
        writes=(CHECKPOINTS,),
        platform_topics=("READ",),
    ),
}
SERVICES = tuple(ACCESS)
PROVISIONER_GRANTS = (Grant("cluster", "kafka-cluster", ("ALTER", "DESCRIBE")),)


def platform_principal(platform_id: str, namespace: str = "") -> str:
    """The SCRAM username of a platform that consumes its list from Kafka."""
    return qualified(f"platform.{platform_id}", namespace)


def platform_grants(platform_id: str) -> tuple[Grant, ...]:
    """A platform may read its own topic with its own consumer groups, and nothing else."""
    return (
        Grant("topic", platform_topic(platform_id).name, ("READ",)),
        Grant("group", f"{PLATFORM_TOPIC_PREFIX}{platform_id}.", ("READ",), prefixed=True),
    )


def grants_of(principal: str) -> tuple[Grant, ...]:
    """The grants of a service principal or of the provisioner."""
    if principal == PROVISIONER:
        return PROVISIONER_GRANTS
    return tuple(ACCESS[principal].grants(principal))


def acl_bindings(principal: str, grants: tuple[Grant, ...], namespace: str = "") -> list[Any]:
    """``grants`` as confluent-kafka ``AclBinding``s for ``User:<principal>``, namespaced."""
    from confluent_kafka.admin._acl import AclBinding, AclOperation, AclPermissionType
    from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

    bindings = []
    for grant in grants:
        name = grant.name if grant.resource == "cluster" else qualified(grant.name, namespace)
        pattern = ResourcePatternType.PREFIXED if grant.prefixed else ResourcePatternType.LITERAL
        resource = (
            ResourceType.BROKER
            if grant.resource == "cluster"
            else ResourceType[grant.resource.upper()]
        )
        for operation in grant.operations:
            bindings.append(
                AclBinding(
                    resource,
                    name,
                    pattern,
                    f"User:{principal}",
                    "*",
                    AclOperation[operation],
                    AclPermissionType.ALLOW,
                )
            )
    return bindings


def allows(grants: tuple[Grant, ...], resource: Resource, name: str, operation: Operation) -> bool:
    """Whether ``grants`` (not namespaced) allow ``operation`` on the named resource."""
    return any(
        grant.resource == resource
        and operation in grant.operations
        and (name.startswith(grant.name) if grant.prefixed else name == grant.name)
        for grant in grants
    )


def access_table() -> str:
    """The README's table of who may do what, rendered from ``ACCESS`` (a test keeps the
    README in step with it)."""

    def names(specs: tuple[TopicSpec, ...]) -> str:
        return ", ".join(f"`{spec.name}`" for spec in specs) or "—"

    rows = [
        "| principal | reads | writes | also |",
        "|---|---|---|---|",
    ]
    for service, access in ACCESS.items():
        also = [f"consumer groups `haven.{service}.*`", "the DLQs of what it reads"]
        if access.transactional:
            also.append(f"transactional ids `haven.{service}.*`")
        if access.platform_topics:
            ops = "/".join(op.lower() for op in access.platform_topics)
            also.append(f"{ops} `haven.platform.<id>.v1`")
        rows.append(
            f"| `{service}` | {names(access.reads)} | {names(access.writes)} | {'; '.join(also)} |"
        )
    rows.append(
        f"| `{PROVISIONER}` | — | — | create SCRAM credentials and ACLs (cluster ALTER/DESCRIBE);"
        " used only by the distributor's admin API |"
    )
    rows.append(
        "| `platform.<id>` | `haven.platform.<id>.v1` | — | consumer groups "
        "`haven.platform.<id>.*` |"
    )
    rows.append(f"| `{ADMIN}` | everything (super user) | everything | the operator's bootstrap |")
    return "\n".join(rows) + "\n"
