"""HTTP to public addresses only: the webhook sender's transport, and the registration check.

``resolve_allowed`` resolves a host and refuses it unless every address it resolves to is
allowed (``domain.platforms.address_allowed``). The webhook client's network backend does the
same for every connection it opens and connects to the address it checked, not to the name
again, so a name that resolves to a public address at registration and to 169.254.169.254 a
minute later (DNS rebinding) is refused at connect time. TLS still verifies the certificate
against the URL's host name.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx

from services.distributor.domain.platforms import address_allowed

Resolver = Callable[[str, int], list[str]]


class AddressRefused(ValueError):
    """The host resolves to an address webhooks may not reach."""


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve_allowed(
    host: str, port: int, *, allow_loopback: bool, resolver: Resolver = system_resolver
) -> list[str]:
    """Every address of ``host``, if all are allowed; else ``AddressRefused`` naming one."""
    try:
        addresses = resolver(host, port)
    except OSError as exc:
        raise AddressRefused(f"{host!r} does not resolve: {exc}") from exc
    refused = [a for a in addresses if not address_allowed(a, allow_loopback=allow_loopback)]
    if refused or not addresses:
        raise AddressRefused(
            f"{host!r} resolves to {refused[0] if refused else 'nothing'}, which is not a public address"
        )
    return addresses


class PublicOnlyBackend(httpcore.SyncBackend):
    """Opens a connection only to a checked address of the host."""

    def __init__(self, *, allow_loopback: bool, resolver: Resolver = system_resolver) -> None:
        self._allow_loopback = allow_loopback
        self._resolver = resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve_allowed(
                host, port, allow_loopback=self._allow_loopback, resolver=self._resolver
            )
        except AddressRefused as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)


class PublicOnlyTransport(httpx.BaseTransport):
    """An httpx transport over an httpcore pool with ``PublicOnlyBackend``."""

    def __init__(self, backend: PublicOnlyBackend) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=backend
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.read(),
            extensions=request.extensions,
        )
        try:
            response = self._pool.handle_request(core)
            try:
                content = response.read()
            finally:
                response.close()  # hands the connection back to the pool
        except httpcore.TimeoutException as exc:
            raise httpx.TimeoutException(str(exc), request=request) from exc
        except httpcore.NetworkError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except httpcore.ProtocolError as exc:  # e.g. the receiver closed mid-answer
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        return httpx.Response(response.status, headers=response.headers, content=content)

    def close(self) -> None:
        self._pool.close()
