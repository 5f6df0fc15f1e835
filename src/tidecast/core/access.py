"""Who may call the engine API, decided on the caller's real address.

The seed's "Remote Access" rules: loopback callers are always served; callers in the
same subnet as one of the host's interfaces ("intranet") are served unless intranet
access was turned off; any other address ("internet") is refused unless remote access
was turned on. Methods marked "Remote access: no" answer loopback callers only.

``X-Forwarded-For`` is believed only when the TCP peer is one of the configured trusted
proxies; then the right-most address that is not itself a trusted proxy is the caller.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

import psutil

from tidecast.core.errors import AccessDenied

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressClass(Enum):
    LOOPBACK = "loopback"
    INTRANET = "intranet"
    INTERNET = "internet"


def parse_address(text: str | None) -> IPAddress | None:
    """An IP address from a peer string, unwrapping IPv4-mapped IPv6; None if unparsable."""
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text.strip().split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def interface_networks() -> tuple[IPNetwork, ...]:
    """The networks of this host's interfaces (loopback excluded), read now from the OS."""
    networks: list[IPNetwork] = []
    for addresses in psutil.net_if_addrs().values():
        for entry in addresses:
            if entry.family not in (socket.AF_INET, socket.AF_INET6) or not entry.netmask:
                continue
            try:
                network = ipaddress.ip_network(
                    f"{entry.address.split('%', 1)[0]}/{entry.netmask}", strict=False
                )
            except ValueError:
                continue
            if not network.network_address.is_loopback:
                networks.append(network)
    return tuple(networks)


def classify(address: IPAddress | None, networks: Iterable[IPNetwork]) -> AddressClass:
    """Loopback, a subnet of one of ``networks``, or the internet (unknown counts as internet)."""
    if address is None:
        return AddressClass.INTERNET
    if address.is_loopback:
        return AddressClass.LOOPBACK
    for network in networks:
        if address.version == network.version and address in network:
            return AddressClass.INTRANET
    return AddressClass.INTERNET


def parse_networks(specs: Iterable[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(spec, strict=False) for spec in specs)


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: Sequence[IPNetwork]
) -> IPAddress | None:
    """The caller's address: the peer, or what trusted proxies say in X-Forwarded-For."""
    address = parse_address(peer)
    if address is None or not forwarded_for or not _in_any(address, trusted):
        return address
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        hop_address = parse_address(hop)
        if hop_address is None:
            return address
        if not _in_any(hop_address, trusted):
            return hop_address
        address = hop_address
    return address


def _in_any(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


@dataclass(frozen=True, slots=True)
class Caller:
    """Where a request comes from, as far as access rules are concerned."""

    address: IPAddress | None
    address_class: AddressClass

    @property
    def is_local(self) -> bool:
        return self.address_class is AddressClass.LOOPBACK


def check_access(
    caller: Caller,
    *,
    remote_allowed_for_method: bool,
    allow_intranet: bool,
    allow_remote: bool,
) -> None:
    """Raise AccessDenied unless the seed's rules let this caller use this method."""
    if caller.address_class is AddressClass.LOOPBACK:
        return
    if not remote_allowed_for_method:
        raise AccessDenied("access denied: this method answers local callers only")
    if caller.address_class is AddressClass.INTRANET and allow_intranet:
        return
    if caller.address_class is AddressClass.INTERNET and allow_remote:
        return
    raise AccessDenied("access denied")
