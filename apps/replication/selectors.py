"""Replication reads."""

from urllib.parse import urlsplit

from .clients.base import UpstreamUnusable
from .clients.detect import upstream_base_url
from .models import Upstream
from .redaction import redact_url, strip_credentials


def upstream_for_url(*, url: str) -> Upstream | None:
    """The upstream configured at ``url``, given as its base URL or its simple index URL;
    UpstreamUnusable when it is no http(s) URL.

    A URL without credentials finds the upstream at that place whatever credentials it keeps;
    a URL with other credentials than the upstream's is refused (they are changed in the admin).
    """
    base = upstream_base_url(url)
    location = strip_credentials(base)
    # One query: the upstreams on that host (a handful), compared here, as stored URLs hold
    # credentials and may be in either form.
    candidates = Upstream.objects.filter(url__icontains=urlsplit(base).hostname)
    same_place = []
    for upstream in candidates:
        try:
            stored = upstream_base_url(upstream.url)
        except UpstreamUnusable:
            continue
        if stored == base:
            return upstream
        if strip_credentials(stored) == location:
            same_place.append(upstream)
    if not same_place:
        return None
    if base == location:
        return same_place[0]
    raise UpstreamUnusable(
        f"upstream {same_place[0].name} at {redact_url(location)} has other credentials "
        "than the URL given: change them in the admin, or give its name"
    )
