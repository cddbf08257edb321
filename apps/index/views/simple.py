"""Placeholder until this part of the index is written (being built in this session)."""

from django.http import HttpResponse
from django.views import View


class _NotYet(View):
    def get(self, request, *args, **kwargs):
        return HttpResponse("not implemented yet", status=501)


SimpleRootView = SimpleProjectView = _NotYet
