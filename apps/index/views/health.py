"""``/healthz`` (the process answers) and ``/readyz`` (the parts it needs answer too).

``/healthz`` touches nothing, not even the database: a supervisor restarts a process that fails
it, and a database outage is no reason to restart the web server. ``/readyz`` runs each check of
``apps.index.health`` and answers 200, or 503 naming the failing parts, with a JSON body
``{"ready": bool, "checks": {"database": "ok" | reason, ...}}``. Neither is ever cached.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from ..health import node_readiness


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    states = node_readiness()
    failing = [name for name, reason in states.items() if reason is not None]
    body = {
        "ready": not failing,
        "checks": {name: reason or "ok" for name, reason in states.items()},
    }
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)
