"""A small client of the intake API for tests: solves the proof-of-work like the page does.

``open_case``/``add_media``/``case_status``/``withdraw_case`` return the decoded JSON answer
and raise ``IntakeError`` (with the status and body) on anything but the expected status.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.intake.adapters.pow import solve

Items = list[dict[str, Any]]


class IntakeError(AssertionError):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text}"
        )
        self.status = response.status_code
        self.body = response.json() if response.content else {}
        self.response = response


def solve_pow(challenge: dict[str, Any]) -> str:
    """The ``X-Altcha`` header value for a challenge from ``GET /v1/challenge``."""
    return solve(challenge)


def pow_header(base_url: str, *, client: httpx.Client | None = None) -> str:
    getter = client.get if client is not None else httpx.get
    response = getter(f"{base_url}/v1/challenge", timeout=10)
    if response.status_code != 200:
        raise IntakeError(response)
    return solve_pow(response.json())


def _expect(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise IntakeError(response)
    body: dict[str, Any] = response.json()
    return body


def open_case(
    base_url: str, items: Items, *, idempotency_key: str | None = None, timeout: float = 30
) -> dict[str, Any]:
    headers = {"X-Altcha": pow_header(base_url)}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    response = httpx.post(
        f"{base_url}/v1/cases", json={"items": items}, headers=headers, timeout=timeout
    )
    return _expect(response, 201)


def add_media(base_url: str, case_number: str, secret: str, items: Items) -> dict[str, Any]:
    headers = {"X-Altcha": pow_header(base_url), "Authorization": f"Bearer {secret}"}
    response = httpx.post(
        f"{base_url}/v1/cases/{case_number}/media",
        json={"items": items},
        headers=headers,
        timeout=30,
    )
    return _expect(response, 201)


def case_status(base_url: str, case_number: str, secret: str) -> dict[str, Any]:
    response = httpx.get(
        f"{base_url}/v1/cases/{case_number}",
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    return _expect(response, 200)


def withdraw_case(base_url: str, case_number: str, secret: str) -> dict[str, Any]:
    response = httpx.delete(
        f"{base_url}/v1/cases/{case_number}",
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    return _expect(response, 200)
