"""Webhooks reach public addresses only: the address rule, and the connect-time check that
defeats DNS rebinding (a name that resolved to a public address at registration and resolves
to the metadata service now is refused before any connection is made)."""

from __future__ import annotations

import httpcore
import pytest

from services.distributor.adapters.public_http import (
    AddressRefused,
    PublicOnlyBackend,
    resolve_allowed,
)
from services.distributor.domain.platforms import address_allowed


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "10.0.0.5", "172.16.3.4", "192.168.1.1", "100.64.0.1", "0.0.0.0",  # noqa: S104
     "224.0.0.1", "fe80::1", "fc00::1", "::ffff:10.0.0.1", "192.0.2.10", "127.0.0.1", "::1"],
)  # fmt: skip
def test_internal_addresses_are_refused(address: str) -> None:
    assert not address_allowed(address, allow_loopback=False)


def test_public_addresses_pass_and_loopback_only_when_allowed() -> None:
    assert address_allowed("93.184.216.34", allow_loopback=False)
    assert address_allowed("2606:2800:220:1:248:1893:25c8:1946", allow_loopback=False)
    assert address_allowed("127.0.0.1", allow_loopback=True)
    assert not address_allowed("10.0.0.1", allow_loopback=True)  # the flag is loopback only


def test_a_name_is_refused_if_any_of_its_addresses_is_internal() -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.1.2.3"]

    with pytest.raises(AddressRefused, match=r"10\.1\.2\.3"):
        resolve_allowed("mixed.example", 443, allow_loopback=False, resolver=resolver)


def test_dns_rebinding_is_refused_when_the_connection_is_made() -> None:
    answers = iter([["93.184.216.34"], ["169.254.169.254"]])

    def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    assert resolve_allowed("rebind.example", 443, allow_loopback=False, resolver=rebinding)
    backend = PublicOnlyBackend(allow_loopback=False, resolver=rebinding)
    with pytest.raises(httpcore.ConnectError, match=r"169\.254\.169\.254"):
        backend.connect_tcp("rebind.example", 443, timeout=1)
