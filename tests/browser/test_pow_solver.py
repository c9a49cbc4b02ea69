"""The page's own proof-of-work solver answers challenges made by the ``altcha`` package.

The solver (``js/pow-solver.js`` over our own ``js/sha256.js``) runs under Node here; its
header is checked by ``altcha.verify_solution``, the function the intake API uses.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

from altcha import v1 as altcha

from tests.support.infra import require_tool
from tests.web.harness import WEB_TESTS, find_node

HARNESS = WEB_TESTS.parent / "browser" / "pow_harness.mjs"
HMAC_KEY = "test-hmac-key"
TEXTS = ["", "abc", "a" * 55, "a" * 56, "a" * 64, "b" * 200, "héllo wörld ✓", "salt?expires=1&123"]


def run_solver(texts: list[str], challenges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = require_tool(find_node() or "node", package="nodejs")
    completed = subprocess.run(
        [node, str(HARNESS)],
        input=json.dumps({"texts": texts, "challenges": challenges}).encode(),
        capture_output=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in completed.stdout.decode().splitlines() if line]


def test_sha256_agrees_with_hashlib_across_block_boundaries() -> None:
    rows = run_solver(TEXTS, [])
    for row in rows:
        assert row["sha256"] == hashlib.sha256(row["text"].encode()).hexdigest(), row["text"]


def test_solutions_verify_with_the_altcha_package() -> None:
    challenges = [
        altcha.create_challenge(
            altcha.ChallengeOptions(
                hmac_key=HMAC_KEY,
                max_number=50_000,
                number=number,
                expires=datetime.now(UTC) + timedelta(minutes=5),
            )
        ).to_dict()
        for number in (0, 7, 49_999)
    ]
    rows = run_solver([], challenges)
    assert [row["number"] for row in rows] == [0, 7, 49_999]
    for row in rows:
        ok, error = altcha.verify_solution(row["header"], HMAC_KEY, check_expires=True)
        assert ok, error
