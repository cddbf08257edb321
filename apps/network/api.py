"""The mirrors' REST API on the project's router, thin over selectors, selection and status:

- ``/api/v1/mirrors/`` and ``/api/v1/mirrors/<name>/``: the public mirrors (every one for staff)
  with their URLs' health and 24 h figures; filters: country, continent, protocol, active;
- ``/api/v1/mirrors/<name>/probes/``: its probes, newest first; filters: since, until, ok, url;
- ``/api/v1/mirrors/best/?country=DE&protocol=https[&trace=1]``: the mirrors to use;
- ``/api/v1/network/status/``: the network's status, one versioned document, cached;
- ``POST /api/v1/mirrors/<name>/reports/``: that mirror's token only.

Everything else is read-only; anonymous clients are throttled (pypimirror.throttling).
"""

import random

from django.utils import timezone
from django.utils.cache import patch_cache_control
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.decorators import action
from rest_framework.response import Response

from pypimirror.api import router

from .filters import MirrorFilter, ProbeFilter
from .geography import country_continent
from .models import Mirror, Probe
from .selection import mirrors_select
from .selectors import (
    best_candidates,
    mirror_find,
    mirror_list,
    mirror_probes,
    mirrors_url_statuses,
    network_status,
    reports_by_id,
)
from .serializers import (
    BestQuerySerializer,
    BestSerializer,
    MirrorSerializer,
    NetworkStatusSerializer,
    ProbeSerializer,
    StatusReportSerializer,
)
from .services import report_record, token_authenticate
from .status import STATUS_CACHE_SECONDS

SCHEMES = (b"bearer", b"token")


class MirrorAgent:
    """Who a valid mirror token speaks for: ``request.user`` on a token-authenticated request."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_active = True

    def __init__(self, mirror: Mirror) -> None:
        self.mirror = mirror

    def __str__(self) -> str:
        return f"mirror {self.mirror.name}"


class MirrorTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>`` (or ``Token <token>``) of a mirror.

    No such header: not authenticated (401 where a token is needed). A header with a token that
    is not one of ours, or is revoked: 401, saying so.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in SCHEMES:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: send 'Bearer <token>' with the mirror's token."
            )
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("A mirror token is ASCII.") from None
        mirror = token_authenticate(token=token)
        if mirror is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked mirror token.")
        return MirrorAgent(mirror), mirror

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="mirror reports"'


def client_is_staff(request) -> bool:
    """A staff session (staff see private mirrors)."""
    return bool(request.user and getattr(request.user, "is_staff", False))


class MirrorTokenScheme(OpenApiAuthenticationExtension):
    """MirrorTokenAuthentication in the OpenAPI schema: an HTTP bearer token."""

    target_class = MirrorTokenAuthentication
    name = "mirrorToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The mirror's own token (pmt_...), as mirror_add printed it.",
        }


class IsTheMirror(permissions.BasePermission):
    """The token is that of the mirror named in the URL."""

    message = "This token belongs to another mirror: a mirror posts its own reports only."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Mirror) and request.auth.name == view.kwargs.get("name")


class MirrorViewSet(viewsets.ReadOnlyModelViewSet):
    """The network's mirrors: the public ones, every one for staff. Read-only."""

    serializer_class = MirrorSerializer
    filterset_class = MirrorFilter
    lookup_field = "name"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self):
        return mirror_list(staff=client_is_staff(self.request))

    def list(self, request, *args, **kwargs):
        mirrors = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(mirrors)
        if page is None:
            return Response(self._serialize(mirrors, many=True))
        return self.get_paginated_response(self._serialize(page, many=True))

    def retrieve(self, request, *args, **kwargs):
        return Response(self._serialize([self.get_object()], many=False))

    def get_object(self):
        """The mirror named in the URL, among those the client may see (no filters)."""
        mirror = self.get_queryset().filter(name=self.kwargs["name"]).first()
        if mirror is None:
            raise exceptions.NotFound("No such mirror.")
        return mirror

    def _serialize(self, mirrors, *, many: bool):
        """Mirrors with their URLs' health and latest reports: a fixed number of queries for
        the page (its reports in one, its URLs' probes of the last 24 h in another)."""
        mirrors = list(mirrors)
        reports = reports_by_id(m.latest_report_id for m in mirrors)
        states = {m.pk: getattr(reports.get(m.latest_report_id), "state", None) for m in mirrors}
        statuses = mirrors_url_statuses(mirrors=mirrors, report_states=states, now=timezone.now())
        context = {**self.get_serializer_context(), "reports": reports, "url_statuses": statuses}
        instance = mirrors if many else mirrors[0]
        return MirrorSerializer(instance, many=many, context=context).data

    @extend_schema(
        summary="The mirrors to use, nearest and best first",
        parameters=[BestQuerySerializer],
        responses={200: BestSerializer},
        filters=False,
    )
    @action(detail=False, methods=["get"], url_path="best", filterset_class=None)
    def best(self, request):
        """Mirror URLs for a client in ``country`` over ``protocol``: the country's, else its
        continent's, else the world's, until at least 5; healthy, active, public, not in
        maintenance, not stale next to the freshest; shuffled with weights from their scores,
        so the best comes first most often. ``trace=1`` lists each URL left out and why."""
        query = BestQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        country = query.validated_data.get("country", "")
        protocol = query.validated_data.get("protocol") or None
        statuses = best_candidates(staff=client_is_staff(self.request))
        selection = mirrors_select(
            statuses, country=country, protocol=protocol, rng=random.Random()
        )
        body = {
            "country": country,
            "continent": country_continent(country),
            "protocol": protocol,
            "scope": selection.scope,
            "mirrors": selection.chosen,
        }
        if query.validated_data["trace"]:
            body["excluded"] = selection.excluded
        return Response(BestSerializer(body).data)

    @extend_schema(
        summary="A mirror reports its own state (with its token)",
        request=StatusReportSerializer,
        responses={201: StatusReportSerializer},
        filters=False,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="reports",
        authentication_classes=[MirrorTokenAuthentication],
        permission_classes=[permissions.IsAuthenticated, IsTheMirror],
        serializer_class=StatusReportSerializer,
        filterset_class=None,
    )
    def reports(self, request, name: str):
        """A mirror's own report of its state, with its token (a hint: probes decide health)."""
        serializer = StatusReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = report_record(mirror=request.auth, **serializer.validated_data)
        return Response(StatusReportSerializer(report).data, status=status.HTTP_201_CREATED)


class MirrorProbeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A mirror's probes, newest first (kept for the retention staff set): the truth about it."""

    serializer_class = ProbeSerializer
    filterset_class = ProbeFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the schema
            return Probe.objects.none()
        mirror = mirror_find(name=self.kwargs["mirror_name"], staff=client_is_staff(self.request))
        if mirror is None:
            raise exceptions.NotFound("No such mirror.")
        return mirror_probes(mirror=mirror)

    @extend_schema(summary="A mirror's probes, newest first")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class OneDocumentSchema(AutoSchema):
    """A viewset's ``list`` that answers one document, not a list of them."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class NetworkStatusViewSet(viewsets.ViewSet):
    """The network's status as one document (public mirrors), cached a few minutes."""

    schema = OneDocumentSchema()

    @extend_schema(
        summary="The network's status, one versioned document",
        operation_id="network_status_retrieve",
        responses=NetworkStatusSerializer,
    )
    def list(self, request):
        """Every public mirror URL with its health and 24 h figures (``version`` 1), as of at
        most ``STATUS_CACHE_SECONDS`` ago."""
        response = Response(network_status())
        patch_cache_control(response, public=True, max_age=STATUS_CACHE_SECONDS)
        return response


router.register("mirrors", MirrorViewSet, basename="mirror")
router.register(
    r"mirrors/(?P<mirror_name>[-a-zA-Z0-9_]+)/probes", MirrorProbeViewSet, basename="mirror-probe"
)
router.register("network/status", NetworkStatusViewSet, basename="network-status")
