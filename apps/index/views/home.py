"""``/``: what this node is, how far it has followed its upstreams, and how to point clients at it.

Also the admin's "View site". Upstreams are shown by name and protocol, never by URL (a URL may
carry credentials). The catalog's counts are cached (catalog_summary), the upstreams cost two
queries: the page may be asked often, but is no hot path.
"""

import ipaddress
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apps.catalog.selectors import catalog_summary, journal_last_serial
from apps.replication.selectors import upstream_status_list

from ..links import base_url


def is_loopback(host: str) -> bool:
    """Whether pip counts ``host`` as a secure origin over plain http (localhost, 127/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    base = base_url(request)
    parts = urlsplit(base)
    plain_http = parts.scheme == "http"
    context = {
        "base": base,
        "index_url": f"{base}/simple/",
        "plain_http": plain_http,
        # pip refuses an http index elsewhere than on loopback unless told to trust the host.
        "trusted_host": parts.hostname if plain_http and not is_loopback(parts.hostname) else "",
        "serial": journal_last_serial(),
        "summary": catalog_summary(),
        "upstreams": upstream_status_list(),
    }
    return render(request, "index/home.html", context)
