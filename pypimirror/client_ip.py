"""The address of the client a request came from, for limits per address (django-axes).

Behind a proxy every request arrives from the proxy (over the unix socket of the systemd unit,
from no address at all), so the client is named in X-Forwarded-For, which nginx's
``$proxy_add_x_forwarded_for`` ends with the address it saw. That header is believed only from
the proxies PYPIMIRROR_TRUSTED_PROXIES names; anyone else could write any address into it.
"""

import ipaddress
from collections.abc import Iterable
from functools import cache

from django.conf import settings
from django.http import HttpRequest

UNIX_SOCKET = "unix"  # in PYPIMIRROR_TRUSTED_PROXIES: a peer on a unix socket (no address)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _trusted(entries: tuple[str, ...]) -> tuple[bool, tuple[Network, ...]]:
    networks = tuple(
        ipaddress.ip_network(entry, strict=False) for entry in entries if entry != UNIX_SOCKET
    )
    return UNIX_SOCKET in entries, networks


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def client_address(
    *, peer: str, forwarded_for: str | None, trusted_proxies: Iterable[str]
) -> str | None:
    """The right-most address of ``peer`` and the X-Forwarded-For chain before it that is not a
    trusted proxy: each trusted hop vouches for the one before it, nobody for the rest."""
    trust_unix, networks = _trusted(tuple(trusted_proxies))
    peer_address = _address(peer) if peer else None
    if peer_address is None:
        if peer or not trust_unix:
            return None
    elif not any(peer_address in network for network in networks):
        return str(peer_address)
    nearest = str(peer_address) if peer_address else None
    for hop in reversed((forwarded_for or "").split(",")):
        address = _address(hop)
        if address is None:  # not an address: what the nearest trusted hop saw has to do
            return nearest
        nearest = str(address)
        if not any(address in network for network in networks):
            return nearest
    return nearest


def request_client_address(request: HttpRequest) -> str | None:
    """``client_address`` of a request, trusting the proxies of the settings (for django-axes)."""
    return client_address(
        peer=request.META.get("REMOTE_ADDR", ""),
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR"),
        trusted_proxies=settings.PYPIMIRROR_TRUSTED_PROXIES,
    )
