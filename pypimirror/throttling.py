"""The API's throttle (settings.REST_FRAMEWORK's default): anonymous clients only."""

from django.conf import settings
from rest_framework import throttling


class AnonRateThrottle(throttling.AnonRateThrottle):
    """DRF's throttle of anonymous clients at ``settings.PYPIMIRROR_API_ANON_RATE``, read when
    a request comes (DRF reads its own rates once, at import), so a test may change it. Counted
    in the default cache, per client address (``NUM_PROXIES`` says which)."""

    def get_rate(self) -> str | None:
        return settings.PYPIMIRROR_API_ANON_RATE or None
