"""Replication reads."""

from django.db.models import Q

from .clients.detect import split_upstream_url
from .models import Upstream


def upstream_for_url(*, url: str) -> Upstream | None:
    """The upstream configured at ``url``, given as its base URL or its simple index URL;
    UpstreamUnusable when it is no http(s) URL."""
    base, _simple = split_upstream_url(url)
    return Upstream.objects.filter(Q(url=url) | Q(url=base)).first()


def upstream_sources() -> dict[str, str]:
    """The catalog's sources that are upstreams: key → label (apps/catalog/sources.py)."""
    return {
        f"upstream:{pk}": f"upstream {name}"
        for pk, name in Upstream.objects.order_by("name").values_list("pk", "name")
    }
