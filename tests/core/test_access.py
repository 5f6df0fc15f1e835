"""The seed's remote-access rules as a pure policy, for addresses of every class."""

from __future__ import annotations

import ipaddress

import pytest

from tidecast.core.access import (
    AddressClass,
    Caller,
    check_access,
    classify,
    client_address,
    parse_address,
    parse_networks,
)
from tidecast.core.errors import AccessDenied

HOST_NETWORKS = parse_networks(["192.168.1.0/24", "10.20.0.0/16", "fd00:1::/64"])


@pytest.mark.parametrize(
    ("peer", "expected"),
    [
        ("127.0.0.1", AddressClass.LOOPBACK),
        ("127.8.9.10", AddressClass.LOOPBACK),
        ("::1", AddressClass.LOOPBACK),
        ("::ffff:127.0.0.1", AddressClass.LOOPBACK),
        ("192.168.1.77", AddressClass.INTRANET),
        ("::ffff:192.168.1.77", AddressClass.INTRANET),
        ("10.20.255.1", AddressClass.INTRANET),
        ("fd00:1::abcd", AddressClass.INTRANET),
        # Private, but not a subnet of this host: the seed calls that the Internet.
        ("192.168.2.1", AddressClass.INTERNET),
        ("10.21.0.1", AddressClass.INTERNET),
        ("203.0.113.9", AddressClass.INTERNET),
        ("2001:db8::1", AddressClass.INTERNET),
        ("not-an-ip", AddressClass.INTERNET),
        (None, AddressClass.INTERNET),
    ],
)
def test_classify(peer: str | None, expected: AddressClass) -> None:
    assert classify(parse_address(peer), HOST_NETWORKS) is expected


def caller(address_class: AddressClass) -> Caller:
    return Caller(ipaddress.ip_address("198.51.100.1"), address_class)


@pytest.mark.parametrize("intranet", [True, False])
@pytest.mark.parametrize("remote", [True, False])
@pytest.mark.parametrize("method_remote", [True, False])
@pytest.mark.parametrize("address_class", list(AddressClass))
def test_policy_matrix(
    address_class: AddressClass, method_remote: bool, remote: bool, intranet: bool
) -> None:
    allowed = address_class is AddressClass.LOOPBACK or (
        method_remote
        and (
            (address_class is AddressClass.INTRANET and intranet)
            or (address_class is AddressClass.INTERNET and remote)
        )
    )
    if allowed:
        check_access(
            caller(address_class),
            remote_allowed_for_method=method_remote,
            allow_intranet=intranet,
            allow_remote=remote,
        )
    else:
        with pytest.raises(AccessDenied):
            check_access(
                caller(address_class),
                remote_allowed_for_method=method_remote,
                allow_intranet=intranet,
                allow_remote=remote,
            )


def test_forwarded_for_only_from_trusted_proxies() -> None:
    trusted = parse_networks(["127.0.0.1/32", "10.0.0.0/8"])
    # A trusted proxy chain: the right-most untrusted hop is the caller.
    assert str(client_address("127.0.0.1", "203.0.113.5, 10.1.1.1", trusted)) == "203.0.113.5"
    # Spoofing through a trusted proxy does not help: the left-most claim is not believed.
    assert str(client_address("127.0.0.1", "127.0.0.1, 203.0.113.5", trusted)) == "203.0.113.5"
    # An untrusted peer's header is ignored.
    assert str(client_address("203.0.113.5", "127.0.0.1", trusted)) == "203.0.113.5"
    # Garbage in the header: the proxy itself is the caller.
    assert str(client_address("127.0.0.1", "garbage", trusted)) == "127.0.0.1"
