"""Refusing to serve other hosts with a development configuration.

``bin/run`` starts with DEBUG on, the development secret key and loopback-only host names: right
on 127.0.0.1, dangerous (debug pages show settings and code; the key signs sessions) or broken
(every other host gets 400) once the server listens beyond this machine. Both ``bin/run`` and
gunicorn (``deploy/gunicorn.conf.py``) call ``exposure_refusal`` before serving.
"""

import ipaddress
from collections.abc import Iterable, Sequence

DEVELOPMENT_SECRET_KEY = "insecure-local-development-key-change-me"
LOOPBACK_NAMES = {"localhost", "localhost."}


def _is_loopback_host(host: str) -> bool:
    host = host.strip().strip("[]")
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: what it resolves to may change, so it counts as exposed


def address_is_exposed(address: str) -> bool:
    """Whether gunicorn listening at ``address`` can be reached from other machines.

    Loopback addresses (127.0.0.0/8, ::1, localhost), unix sockets and inherited descriptors
    (``fd://``, whose owner chose where they listen) are not; everything else is, including an
    empty host (``:8080``, every interface) and any host name.
    """
    address = address.strip()
    if address.startswith(("unix:", "fd://")):
        return False
    address = address.removeprefix("tcp://")
    if address.startswith("["):  # [v6]:port
        host = address[1 : address.find("]")] if "]" in address else address
    else:
        host, sep, _port = address.rpartition(":")
        if not sep:
            host = address  # a host alone (gunicorn then uses port 8000)
    return not _is_loopback_host(host) if host else True


def exposure_problems(
    *,
    bind: Iterable[str],
    debug: bool,
    secret_key: str,
    allowed_hosts: Sequence[str],
) -> list[str]:
    """What is wrong with serving this configuration at ``bind``; empty when nothing is."""
    if not any(address_is_exposed(address) for address in bind):
        return []
    problems = []
    if debug:
        problems.append(
            "DEBUG is on: an error page would show other hosts the settings and the code. "
            "Set DJANGO_DEBUG=false."
        )
    if secret_key == DEVELOPMENT_SECRET_KEY or not secret_key:
        problems.append(
            "the secret key is the development one, which anybody can read in the source. Set "
            "DJANGO_SECRET_KEY to a long random value, e.g. the output of "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
    if all(_is_loopback_host(host) for host in allowed_hosts):
        problems.append(
            f"DJANGO_ALLOWED_HOSTS names only this machine ({','.join(allowed_hosts) or 'none'}): "
            "every other host would get 400 Bad Request. Set it to the names clients use, "
            "comma-separated, e.g. DJANGO_ALLOWED_HOSTS=mirror.example.org,10.0.0.5."
        )
    return problems


def exposure_refusal(bind: Sequence[str]) -> str | None:
    """The message refusing to serve at ``bind`` with the loaded Django settings, or None."""
    from django.conf import settings

    problems = exposure_problems(
        bind=bind,
        debug=settings.DEBUG,
        secret_key=settings.SECRET_KEY,
        allowed_hosts=settings.ALLOWED_HOSTS,
    )
    if not problems:
        return None
    lines = [
        f"Refusing to start: PYPIMIRROR_BIND={','.join(bind)} listens beyond this machine, and",
        *(f"  - {problem}" for problem in problems),
        "For example:",
        "  DJANGO_ALLOWED_HOSTS=mirror.example.org DJANGO_DEBUG=false "
        "DJANGO_SECRET_KEY=<a long random value> PYPIMIRROR_BIND=0.0.0.0:8080 bin/run",
        "(or bind 127.0.0.1 and put nginx in front: deploy/README.md).",
    ]
    return "\n".join(lines)
