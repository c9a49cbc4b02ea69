"""The platform registry on a running distributor: admin API, keys shown once, rotation,
disabling, and who may read what."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.test_distributor_support import (  # noqa: F401 - fixtures
    Haven,
    haven_factory_fixture,
    haven_fixture,
)
from tests.support.services import ROOT
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration


def feed_status(haven: Haven, key: str) -> int:
    return httpx.get(
        f"{haven.url}/v1/feed", headers={"Authorization": f"Bearer {key}"}, timeout=10
    ).status_code


def test_admin_endpoints_need_the_admin_token(haven: Haven) -> None:
    body = {"id": "p1", "name": "P1"}
    assert httpx.post(f"{haven.url}/v1/platforms", json=body, timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    response = httpx.get(f"{haven.url}/v1/platforms", headers=wrong, timeout=10)
    assert response.status_code == 401
    assert response.json()["fields"][0]["field"] == "Authorization"
    created = haven.add_platform(id="p1", name="P1")
    # A platform key is not an admin token.
    as_platform = {"Authorization": f"Bearer {created['api_key']}"}
    assert (
        httpx.get(f"{haven.url}/v1/platforms", headers=as_platform, timeout=10).status_code == 401
    )
    assert (
        httpx.post(
            f"{haven.url}/v1/platforms/p1/disable", headers=as_platform, timeout=10
        ).status_code
        == 401
    )


def test_key_is_shown_once_and_never_listed(haven: Haven) -> None:
    created = haven.add_platform(id="shop", name="Shop", signals=["md5"], channels=["pull"])
    key = created["api_key"]
    assert key.startswith("hvn_") and created["webhook_secret"] is None
    listed = httpx.get(f"{haven.url}/v1/platforms", headers=haven.admin(), timeout=10)
    assert listed.status_code == 200
    assert key not in listed.text and created["platform"]["api_keys"][0]["key_id"] in listed.text
    assert [p["id"] for p in listed.json()] == ["shop"]
    assert listed.json()[0]["signals"] == ["md5"]
    wait_until(lambda: feed_status(haven, key) == 200, timeout=10, what="the new key works")
    again = httpx.post(
        f"{haven.url}/v1/platforms",
        json={"id": "shop", "name": "Again"},
        headers=haven.admin(),
        timeout=10,
    )
    assert again.status_code == 409 and again.json()["fields"][0]["field"] == "id"


def test_bad_platform_input_names_the_field(haven: Haven) -> None:
    def post(body: dict[str, object]) -> httpx.Response:
        return httpx.post(f"{haven.url}/v1/platforms", json=body, headers=haven.admin(), timeout=10)

    plain = post(
        {"id": "w", "name": "W", "channels": ["webhook"], "webhook_url": "http://example.com/h"}
    )
    assert plain.status_code == 422
    assert plain.json()["fields"][0]["field"] == "webhook_url"
    assert "https" in plain.json()["message"]
    missing = post({"id": "w", "name": "W", "channels": ["webhook"]})
    assert missing.status_code == 422 and missing.json()["fields"][0]["field"] == "webhook_url"
    bad_id = post({"id": "Not An Id!", "name": "W"})
    assert bad_id.status_code == 422 and bad_id.json()["fields"][0]["field"] == "id"
    bad_signal = post({"id": "w", "name": "W", "signals": ["sha1"]})
    assert bad_signal.status_code == 422 and bad_signal.json()["fields"][0]["field"].startswith(
        "signals"
    )
    assert (
        post(
            {
                "id": "w",
                "name": "W",
                "channels": ["webhook"],
                "webhook_url": "https://93.184.216.34/h",
            }
        ).status_code
        == 201
    )


def test_rotation_keeps_the_old_key_for_the_grace_period_and_disable_stops_everything(
    haven: Haven,
) -> None:
    old = haven.add_platform(id="rot", name="Rot")["api_key"]
    wait_until(lambda: feed_status(haven, old) == 200, timeout=10, what="old key works")
    rotated = httpx.post(
        f"{haven.url}/v1/platforms/rot/rotate-key",
        json={"grace_period_s": 3600},
        headers=haven.admin(),
        timeout=10,
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["api_key"]
    assert new != old
    assert rotated.json()["platform"]["webhook_secret_version"] == 2
    wait_until(lambda: feed_status(haven, new) == 200, timeout=10, what="new key works")
    assert feed_status(haven, old) == 200  # still in its grace period
    expiring = [k for k in rotated.json()["platform"]["api_keys"] if k["expires_at"]]
    assert len(expiring) == 1

    immediate = httpx.post(
        f"{haven.url}/v1/platforms/rot/rotate-key",
        json={"grace_period_s": 0},
        headers=haven.admin(),
        timeout=10,
    ).json()["api_key"]
    wait_until(lambda: feed_status(haven, new) == 401, timeout=10, what="previous key refused")
    assert feed_status(haven, old) == 401
    assert feed_status(haven, immediate) == 200

    assert (
        httpx.post(
            f"{haven.url}/v1/platforms/rot/disable", headers=haven.admin(), timeout=10
        ).json()["enabled"]
        is False
    )
    wait_until(
        lambda: feed_status(haven, immediate) == 401, timeout=10, what="disabled key refused"
    )
    httpx.post(f"{haven.url}/v1/platforms/rot/enable", headers=haven.admin(), timeout=10)
    wait_until(lambda: feed_status(haven, immediate) == 200, timeout=10, what="re-enabled")
    unknown = httpx.post(
        f"{haven.url}/v1/platforms/nope/disable", headers=haven.admin(), timeout=10
    )
    assert unknown.status_code == 404


def test_a_platform_reads_only_its_own_record(haven: Haven) -> None:
    a = haven.add_platform(id="alpha", name="A")["api_key"]
    haven.add_platform(id="beta", name="B")
    as_a = {"Authorization": f"Bearer {a}"}
    wait_until(lambda: feed_status(haven, a) == 200, timeout=10, what="key works")
    own = httpx.get(f"{haven.url}/v1/platforms/alpha", headers=as_a, timeout=10)
    assert own.status_code == 200 and own.json()["platform"]["id"] == "alpha"
    assert a not in own.text
    other = httpx.get(f"{haven.url}/v1/platforms/beta", headers=as_a, timeout=10)
    assert other.status_code == 403
    assert httpx.get(f"{haven.url}/v1/platforms/beta", timeout=10).status_code == 401
    assert httpx.get(f"{haven.url}/v1/feed", timeout=10).status_code == 401


def test_haven_platforms_cli_adds_lists_rotates_and_disables(haven: Haven, tmp_path: Path) -> None:
    token_file = tmp_path / "admin-token"
    token_file.write_text(haven.admin_token + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}

    def haven_cli(*args: str, token: bool = True) -> subprocess.CompletedProcess[str]:
        extra = ["--url", haven.url, *(["--token-file", str(token_file)] if token else [])]
        return subprocess.run(
            [sys.executable, "-m", "services.cli", "platforms", *args, *extra],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    added = haven_cli("add", "cli-shop", "--name", "CLI Shop", "--signals", "md5,pdq")
    assert added.returncode == 0, added.stderr
    key = json.loads(added.stdout)["api_key"]
    listed = haven_cli("list")
    assert listed.returncode == 0 and "cli-shop" in listed.stdout and key not in listed.stdout
    rotated = haven_cli("rotate-key", "cli-shop", "--grace-period-s", "0")
    assert rotated.returncode == 0 and json.loads(rotated.stdout)["api_key"] != key
    assert haven_cli("disable", "cli-shop").returncode == 0
    assert json.loads(haven_cli("list").stdout)[0]["enabled"] is False
    refused = haven_cli("list", token=False)
    assert refused.returncode != 0 and "HAVEN_ADMIN_TOKEN" in refused.stderr
    unknown = haven_cli("disable", "nope")
    assert unknown.returncode == 1 and "platform_not_found" in unknown.stderr
