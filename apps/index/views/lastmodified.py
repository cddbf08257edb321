"""``/last-modified`` (PEP 381): when this node last changed, as text/plain in GMT.

PEP 381 asks for "the date in GMT, using the ISO 8601 format" without fixing the form, so it is
written as bandersnatch writes its ``web/last-modified`` file (and pep381client before it):
``%Y%m%dT%H:%M:%S`` and a newline, e.g. ``20240101T12:00:00``. A mirror of a mirror therefore
finds the same thing here as on a bandersnatch mirror. The time is that of the newest journal
entry (any published, removed or yanked file, any project change).

A node on which nothing was ever recorded answers 404 with a plain-text explanation: it has no
last-modified time, and an invented one (the epoch, or now) would mislead a freshness check.
"""

from datetime import UTC

from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from apps.catalog.selectors import journal_last_change

FORMAT = "%Y%m%dT%H:%M:%S"


@require_safe
def last_modified(request: HttpRequest) -> HttpResponse:
    changed = journal_last_change()
    if changed is None:
        return HttpResponse(
            "Nothing has been published on this node yet.\n",
            status=404,
            content_type="text/plain; charset=utf-8",
        )
    changed = changed.astimezone(UTC)
    response = HttpResponse(f"{changed.strftime(FORMAT)}\n", content_type="text/plain")
    response["Last-Modified"] = http_date(changed.timestamp())
    return response
