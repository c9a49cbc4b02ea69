"""The access matrix (schemas.security) is least privilege on its face, and the README's
table is the one it renders."""

from __future__ import annotations

from pathlib import Path

from schemas.security import (
    ACCESS,
    PROVISIONER,
    access_table,
    acl_bindings,
    allows,
    grants_of,
    platform_grants,
)
from schemas.topics import CASES, HASHLIST, SUBMISSIONS, TOPICS, dlq_of

ROOT = Path(__file__).resolve().parents[3]


def test_the_readme_table_is_the_matrix() -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- access-table")
    body = readme[readme.index("\n", start) + 1 : readme.index("<!-- /access-table -->")]
    assert body == access_table(), "README's access table drifted: paste access_table()"


def test_each_topic_has_exactly_its_writers() -> None:
    writers = {spec.name: {s for s, a in ACCESS.items() if spec in a.writes} for spec in TOPICS}
    assert writers[SUBMISSIONS.name] == {"intake"}  # nobody else can forge a withdrawal
    assert writers[HASHLIST.name] == {"distributor"}
    assert writers[CASES.name] == {"intake"}
    for spec in TOPICS:
        assert len(writers[spec.name]) <= 1, spec.name


def test_a_consumer_may_dead_letter_what_it_reads_and_nothing_else() -> None:
    grants = grants_of("matcher")
    assert allows(grants, "topic", dlq_of(HASHLIST).name, "WRITE")
    assert not allows(grants, "topic", dlq_of(SUBMISSIONS).name, "WRITE")
    assert not allows(grants, "topic", CASES.name, "READ")
    assert allows(grants, "group", "haven.matcher.index.x", "READ")
    assert not allows(grants, "group", "haven.intake.status", "READ")


def test_a_platform_reads_only_its_own_topic() -> None:
    grants = platform_grants("alpha")
    assert allows(grants, "topic", "haven.platform.alpha.v1", "READ")
    assert not allows(grants, "topic", "haven.platform.alphabet.v1", "READ")
    assert not allows(grants, "topic", "haven.platform.alpha.v1", "WRITE")
    assert allows(grants, "group", "haven.platform.alpha.main", "READ")
    assert not allows(grants, "group", "haven.platform.beta.main", "READ")


def test_bindings_are_namespaced_except_the_cluster() -> None:
    names = {b.name for b in acl_bindings("intake", grants_of("intake"), "t1")}
    assert all(name.startswith("t1.") for name in names)
    assert {b.name for b in acl_bindings(PROVISIONER, grants_of(PROVISIONER), "t1")} == {
        "kafka-cluster"
    }
