"""Placeholder until this part of the index is written (being built in this session)."""

from django.http import HttpResponse


def _not_yet(request, *args, **kwargs):
    return HttpResponse("not implemented yet", status=501)


serve_file = _not_yet
