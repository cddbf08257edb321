"""pypimirror/client_ip.py: whose address a login failure counts against."""

import pytest

from pypimirror.client_ip import client_address

LOOPBACK = ["127.0.0.1", "::1"]


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "expected"),
    [
        # nothing in front: the peer, whatever the header says
        ("192.0.2.1", "203.0.113.7", [], "192.0.2.1"),
        ("127.0.0.1", "203.0.113.7", [], "127.0.0.1"),
        # a trusted proxy: the address it appended
        ("127.0.0.1", "203.0.113.7", LOOPBACK, "203.0.113.7"),
        # what a client wrote before it is not believed
        ("127.0.0.1", "10.9.9.9, 203.0.113.7", LOOPBACK, "203.0.113.7"),
        ("127.0.0.1", "not-an-address, 203.0.113.7", LOOPBACK, "203.0.113.7"),
        # a chain of trusted proxies: the first untrusted hop from the right
        ("127.0.0.1", "203.0.113.7, 10.0.0.5", ["127.0.0.1", "10.0.0.0/8"], "203.0.113.7"),
        # a trusted proxy that forwards garbage: the proxy's own view
        ("127.0.0.1", "garbage", LOOPBACK, "127.0.0.1"),
        ("127.0.0.1", None, LOOPBACK, "127.0.0.1"),
        # a peer that is not a trusted proxy, though the list is set
        ("192.0.2.1", "203.0.113.7", LOOPBACK, "192.0.2.1"),
        # nginx on the unix socket of the systemd unit
        ("", "203.0.113.7", ["unix"], "203.0.113.7"),
        ("", "[2001:db8::1]", ["unix"], "2001:db8::1"),
        ("", "203.0.113.7", [], None),
    ],
)
def test_client_address(peer, forwarded_for, trusted, expected):
    assert (
        client_address(peer=peer, forwarded_for=forwarded_for, trusted_proxies=trusted) == expected
    )
