"""The local stack's broker as the benchmarks reach it: the operator's ``admin`` principal
for setting up and reading back, and each service's own principal for in-process services
(the broker is secured; ``deploy/local/stack.py`` keeps the development secrets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deploy.local import stack as local_stack
from schemas.bootstrap import bootstrap, env_access
from schemas.security import KafkaAccess


def admin() -> KafkaAccess:
    return env_access(local_stack.kafka_admin_env())


def prepared(namespace: str) -> KafkaAccess:
    """Topics and the services' ACLs of ``namespace``; returns the admin's access."""
    access = admin()
    bootstrap(access, namespace=namespace)
    return access


def service_settings(service: str) -> dict[str, Any]:
    """Settings of an in-process ``service`` that connects as its own principal."""
    env = local_stack.kafka_service_env()
    return {
        "env": "development",
        "kafka_bootstrap": env["HAVEN_KAFKA_BOOTSTRAP"],
        "kafka_password": env[f"HAVEN_{service.upper()}_KAFKA_PASSWORD"],
        "kafka_ca_file": Path(env["HAVEN_KAFKA_CA_FILE"]),
    }
