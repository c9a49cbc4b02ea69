"""POSTs one signed webhook batch, retrying as ``webhooks.RetryPolicy`` says.

Returns an outcome instead of raising, so the dispatcher decides what a final failure means.
Waiting between attempts is interruptible: a stopping service abandons the batch unrecorded,
and the next start re-sends it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx

from services.distributor.adapters.public_http import PublicOnlyBackend, PublicOnlyTransport
from services.distributor.domain.webhooks import (
    SIGNATURE_HEADER,
    RetryPolicy,
    parse_retry_after,
    retryable_status,
    signature_header,
)
from services.distributor.metrics import DistributorMetrics


@dataclass(frozen=True)
class SendOutcome:
    delivered: bool
    attempts: int
    error: str
    interrupted: bool = False


class WebhookSender:
    def __init__(
        self,
        *,
        platform_id: str,
        policy: RetryPolicy,
        timeout_s: float,
        metrics: DistributorMetrics,
        stopping: threading.Event,
        allow_loopback: bool = False,
    ) -> None:
        self.platform_id = platform_id
        self.policy = policy
        self.metrics = metrics
        self._stopping = stopping
        backend = PublicOnlyBackend(allow_loopback=allow_loopback)
        self._client = httpx.Client(
            transport=PublicOnlyTransport(backend),
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            trust_env=False,
        )

    def close(self) -> None:
        self._client.close()

    def send(self, url: str, body: bytes, secrets: list[str], batch_id: str) -> SendOutcome:
        error = ""
        for attempt in range(1, self.policy.max_attempts + 1):
            retry_after: float | None = None
            started = time.perf_counter()
            try:
                response = self._client.post(
                    url,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        SIGNATURE_HEADER: signature_header(secrets, int(time.time()), body),
                        "Haven-Batch-Id": batch_id,
                        "User-Agent": "Haven-Webhooks/1",
                    },
                )
            except httpx.TransportError as exc:  # timeouts and connection errors
                error = f"{type(exc).__name__}: {exc}"[:500]
            else:
                if 200 <= response.status_code < 300:
                    self._observe(started, "ok")
                    return SendOutcome(True, attempt, "")
                error = f"HTTP {response.status_code}"
                if not retryable_status(response.status_code):
                    self._observe(started, "rejected")
                    return SendOutcome(False, attempt, error + " (not retried)")
                retry_after = parse_retry_after(response.headers.get("retry-after"))
            self._observe(started, "retry")
            if attempt < self.policy.max_attempts and self._stopping.wait(
                self.policy.delay(attempt, retry_after)
            ):
                return SendOutcome(False, attempt, error, interrupted=True)
        return SendOutcome(False, self.policy.max_attempts, error)

    def _observe(self, started: float, result: str) -> None:
        self.metrics.webhook_latency.labels(self.platform_id).observe(time.perf_counter() - started)
        self.metrics.webhook_attempts.labels(self.platform_id, result).inc()
