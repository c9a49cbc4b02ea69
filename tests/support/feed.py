"""Reading a platform's pull feed the way a platform would: page by page to the end."""

from __future__ import annotations

from typing import Any

import httpx


def pull_all(
    distributor_url: str, api_key: str, *, limit: int = 1000, cursor: str = ""
) -> tuple[list[dict[str, Any]], str]:
    """Every entry the feed has after ``cursor`` (empty: a full sync), and the cursor to go on
    from. Each page is recorded by the distributor as a delivery to the platform."""
    entries: list[dict[str, Any]] = []
    while True:
        response = httpx.get(
            f"{distributor_url}/v1/feed",
            params={"cursor": cursor, "limit": limit},
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        page = response.json()
        entries += page["entries"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return entries, cursor
