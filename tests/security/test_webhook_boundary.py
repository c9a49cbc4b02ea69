"""Attacks through the platform registry: a webhook URL that points inside Haven's network
(an internal address, or a name that resolves to one) is refused at registration. (The
connect-time check against DNS rebinding is proven in tests/unit/distributor/test_public_http.)"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.integration.test_distributor_support import (  # noqa: F401 - fixtures
    Haven,
    haven_factory_fixture,
)
from tests.security.conftest import AttackTable

pytestmark = [pytest.mark.integration, pytest.mark.security]


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("https://169.254.169.254/latest/meta-data", "a webhook URL at 169.254.169.254"),
        ("https://10.0.0.7/hook", "a webhook URL at 10.0.0.7"),
        ("https://localhost:8443/hook", "a webhook URL whose name resolves to loopback"),
        ("http://93.184.216.34/hook", "a plain-http webhook URL"),
    ],
)
def test_webhook_urls_inside_the_network_are_refused(
    haven_factory: Callable[..., Haven], url: str, what: str, attacks: AttackTable
) -> None:
    haven = haven_factory({"HAVEN_DISTRIBUTOR_WEBHOOK_ALLOW_LOOPBACK": "false"})
    body = {"id": "ssrf", "name": "SSRF", "channels": ["webhook"], "webhook_url": url}
    response = httpx.post(f"{haven.url}/v1/platforms", json=body, headers=haven.admin(), timeout=30)
    fields = [f["field"] for f in response.json().get("fields", [])]
    attacks.record(f"registering {what}", "422 on webhook_url", f"{response.status_code} {fields}")
    assert response.status_code == 422 and fields == ["webhook_url"]
