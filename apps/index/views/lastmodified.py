"""``/last-modified`` (PEP 381): when this node last changed, as text/plain in GMT.

PEP 381 asks for "the date in GMT, using the ISO 8601 format" without fixing the form, so it is
written as bandersnatch writes its ``web/last-modified`` file (and pep381client before it):
``%Y%m%dT%H:%M:%S`` and a newline, e.g. ``20240101T12:00:00``. A mirror of a mirror therefore
finds the same thing here as on a bandersnatch mirror. The time is that of the newest journal
entry (any published, removed or yanked file, any project change).

A node on which nothing was ever recorded answers 404 with a plain-text explanation: it has no
last-modified time, and an invented one (the epoch, or now) would mislead a freshness check.
The node's serial gives the ETag, so ``If-None-Match`` (or ``If-Modified-Since``) gets 304.
"""

from datetime import UTC

from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from apps.catalog.selectors import journal_last_change

from ..caching import head_response, not_modified

FORMAT = "%Y%m%dT%H:%M:%S"
CONTENT_TYPE = "text/plain"


@require_safe
def last_modified(request: HttpRequest) -> HttpResponse:
    last = journal_last_change()
    if last is None:
        return HttpResponse(
            "Nothing has been published on this node yet.\n",
            status=404,
            content_type="text/plain; charset=utf-8",
        )
    serial, changed = last
    changed = changed.astimezone(UTC)
    headers = {"ETag": f'"serial-{serial}"', "Last-Modified": http_date(changed.timestamp())}
    unchanged = not_modified(request, headers, last_modified=changed, compressible=False)
    if unchanged is not None:
        return unchanged
    body = f"{changed.strftime(FORMAT)}\n".encode()
    if request.method == "HEAD":
        return head_response(
            headers, content_type=CONTENT_TYPE, length=len(body), compressible=False
        )
    return HttpResponse(body, content_type=CONTENT_TYPE, headers=headers)
