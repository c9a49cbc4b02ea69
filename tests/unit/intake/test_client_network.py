"""Rate limits key an IPv6 client by its network (default /64), so one household cannot
spread its requests over 2^64 buckets; IPv4 and IPv4-mapped addresses stay per address."""

from __future__ import annotations

from services.intake.adapters.guards import client_id, client_network

SEED = b"s" * 32


def test_addresses_of_one_ipv6_64_share_a_bucket_and_the_next_64_does_not() -> None:
    one = client_network("2001:db8:1:2:aaaa::1")
    assert one == client_network("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert client_network("2001:db8:1:3::1") != one
    assert client_id(SEED, one) == client_id(SEED, client_network("2001:db8:1:2::99"))


def test_the_prefix_is_configurable_and_ipv4_stays_per_address() -> None:
    assert client_network("2001:db8:1:2::1", ipv6_prefix=48) == "2001:db8:1::/48"
    assert client_network("203.0.113.7") == "203.0.113.7"
    assert client_network("::ffff:203.0.113.7") == "203.0.113.7"
    assert client_network("testclient") == "testclient"  # not an address: kept as it is
