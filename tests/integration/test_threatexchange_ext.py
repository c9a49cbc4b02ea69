"""The real ``threatexchange`` CLI fetches Haven's list through our extension: additions
arrive, withdrawals remove them, and each fetch resumes from its checkpoint (our cursor)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_distributor_support import (  # noqa: F401 - fixtures
    Haven,
    haven_factory_fixture,
    haven_fixture,
    image,
    pull_all,
)
from tests.support.services import ROOT
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration
TX = [sys.executable, "-m", "threatexchange.cli.main"]


def tx(home: Path, api_key: str, *args: str) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HAVEN_", "TX_"))},
        "HOME": str(home),
        "TX_STATEDIR": str(home / ".threatexchange"),
        "TX_HAVEN_API_KEY": api_key,
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [*TX, *args], cwd=home, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"threatexchange {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_threatexchange_cli_fetches_additions_and_withdrawals(haven: Haven, tmp_path: Path) -> None:
    key = haven.add_platform(id="hma", name="HMA", signals=["pdq", "md5"])["api_key"]
    for n in (1, 2, 3):
        haven.open_case(f"case-{n}", image(n))
    wait_until(
        lambda: len(pull_all(haven, key)[0]) == 6, timeout=30, what="six entries on the feed"
    )

    tx(tmp_path, key, "config", "extensions", "add", "services.distributor.adapters.threatexchange")
    tx(tmp_path, key, "config", "collab", "edit", "haven", "Haven", "--create", "--url", haven.url)
    tx(tmp_path, key, "fetch")
    first = tx(tmp_path, key, "dataset", "-P")
    for n in (1, 2, 3):
        assert image(n).pdq in first and image(n).md5 in first

    haven.withdraw("case-2")
    haven.open_case("case-4", image(4))
    wait_until(
        lambda: (
            any(e["status"] == "withdrawn" for e in pull_all(haven, key)[0])
            and len(pull_all(haven, key)[0]) == 8
        ),
        timeout=30,
        what="the withdrawal and the new case on the feed",
    )
    tx(tmp_path, key, "fetch")
    second = tx(tmp_path, key, "dataset", "-P")
    assert image(2).pdq not in second and image(2).md5 not in second
    for n in (1, 3, 4):
        assert image(n).pdq in second and image(n).md5 in second
