"""``POST /pypi`` (and ``/pypi/``): PyPI's mirroring XML-RPC methods (see apps.index.xmlrpc).

A fault is an ordinary XML-RPC response (HTTP 200), as clients expect; only a method other than
POST is an HTTP error (405). No session or CSRF: it is a read-only machine API.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from ..xmlrpc import MAX_REQUEST_SIZE, xmlrpc_handle


@csrf_exempt
def xmlrpc_endpoint(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    # Read at most one byte past the limit, whatever Content-Length claims.
    body = request.read(MAX_REQUEST_SIZE + 1)
    return HttpResponse(xmlrpc_handle(body), content_type="text/xml; charset=utf-8")
