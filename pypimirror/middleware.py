"""Refuses, with 400, request input that no part of the node can look up: a NUL character.

PostgreSQL text cannot hold NUL (U+0000): one that reaches a query raises DataError, a 500 with
a traceback. No project name, version, filename, filter value, page number or session key
holds one, so a request with a NUL in its path, its query string or its session cookie (the
one cookie looked up; ``"\\000"`` is how a quoted cookie spells NUL) is answered 400 before any
view, session or user is looked at. Other cookies are never looked up, so they are let be.
This is the net under every view; the parsers of each input bound their own (e.g.
apps/index/ranges.py, apps/index/inputs.py, the API's filter serializers).
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

NUL = "\x00"


def request_input_problem(request: HttpRequest) -> str | None:
    """What makes the request's path, query or session cookie unusable, or None.

    Reading ``request.GET`` may itself refuse the query (too many fields): Django answers that
    SuspiciousOperation with 400 too.
    """
    if NUL in request.path:
        return "the URL path holds a NUL character (%00)."
    for key, values in request.GET.lists():
        if NUL in key or any(NUL in value for value in values):
            return f"the query parameter {key[:100]!r} holds a NUL character (%00)."
    if NUL in request.COOKIES.get(settings.SESSION_COOKIE_NAME, ""):
        return f"the cookie {settings.SESSION_COOKIE_NAME!r} holds a NUL character."
    return None


class ClientInputMiddleware:
    """Answers 400 (plain text, saying what is wrong) to a request ``request_input_problem``
    refuses; passes every other request on untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = request_input_problem(request)
        if problem is not None:
            return HttpResponseBadRequest(
                f"Bad Request: {problem}\n", content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)
