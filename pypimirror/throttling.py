"""The API's throttle (settings.REST_FRAMEWORK's default): anonymous clients only."""

from django.conf import settings
from rest_framework import throttling

from .client_ip import request_client_address


class AnonRateThrottle(throttling.AnonRateThrottle):
    """DRF's throttle of anonymous clients at ``settings.PYPIMIRROR_API_ANON_RATE``, read when
    a request comes (DRF reads its own rates once, at import), so a test may change it. Counted
    in the default cache per client address, found as for the login limits (client_ip.py:
    X-Forwarded-For only from PYPIMIRROR_TRUSTED_PROXIES), so one setting names the proxies."""

    def get_rate(self) -> str | None:
        return settings.PYPIMIRROR_API_ANON_RATE or None

    def get_ident(self, request) -> str:
        return request_client_address(request) or request.META.get("REMOTE_ADDR", "") or "unix"
