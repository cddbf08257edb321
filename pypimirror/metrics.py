"""Prometheus metrics at ``/metrics`` (prometheus-client): request latency by view, counted by
each web process, and the sync figures, read from the database (apps/replication/metrics.py).

Gunicorn runs several worker processes: each writes its requests' figures to files in
PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode, set up by
deploy/gunicorn.conf.py) and a scrape, whichever worker answers it, sums them all. A process
without that directory (``runserver``, tests in one process) reports its own requests alone.

Only the addresses in PYPIMIRROR_METRICS_ALLOW get the figures (loopback by default); the
client's address is the one django-axes uses (pypimirror/client_ip.py: X-Forwarded-For only
from a trusted proxy).
"""

import ipaddress
import logging
import os
import time
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.exposition import choose_encoder

from .client_ip import request_client_address

logger = logging.getLogger(__name__)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNRESOLVED = "unresolved"  # no URL pattern matched (a 404, a redirect to add a slash ...)

# No registry: each scrape builds its own (metrics_registry).
REQUEST_DURATION = Histogram(
    "pypimirror_http_request_duration_seconds",
    "Time from a request's arrival to its response (a streamed body's sending not included), "
    "by view (its URL name), method and status class.",
    ["view", "method", "status"],
    registry=None,
)


def request_labels(request: HttpRequest, response: HttpResponse) -> tuple[str, str, str]:
    """(view, method, status class) of an answered request: bounded whatever clients send."""
    match = getattr(request, "resolver_match", None)
    view = match.view_name if match is not None else UNRESOLVED
    method = request.method if request.method in METHODS else "other"
    return view, method, f"{response.status_code // 100}xx"


class RequestMetricsMiddleware:
    """Times every request, from first in the middleware chain to the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.failed = False  # said once per process

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        try:
            REQUEST_DURATION.labels(*request_labels(request, response)).observe(
                time.perf_counter() - start
            )
        except OSError as exc:  # PROMETHEUS_MULTIPROC_DIR gone or full: the answer still goes
            if not self.failed:
                logger.warning("request metrics not recorded: %s", exc)
            self.failed = True
        return response


def metrics_registry() -> CollectorRegistry:
    """What one scrape reports: every web process's requests and the sync figures."""
    from apps.replication.metrics import SyncCollector

    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client.multiprocess import MultiProcessCollector

        MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_DURATION)
    registry.register(SyncCollector())
    return registry


@cache
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def metrics_allowed(request: HttpRequest) -> bool:
    """Whether the request's client is in PYPIMIRROR_METRICS_ALLOW."""
    address = request_client_address(request)
    if address is None:
        return False
    client = ipaddress.ip_address(address)
    if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped:  # a dual-stack socket
        client = client.ipv4_mapped
    return any(client in network for network in _networks(tuple(settings.PYPIMIRROR_METRICS_ALLOW)))


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """The Prometheus text format (or OpenMetrics, when the scraper asks for it)."""
    if not metrics_allowed(request):
        return HttpResponseForbidden(
            "Forbidden: /metrics answers the addresses in PYPIMIRROR_METRICS_ALLOW only.\n",
            content_type="text/plain; charset=utf-8",
        )
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(metrics_registry()), content_type=content_type)
