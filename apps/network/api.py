"""The mirrors' REST API on the project's router: ``/api/v1/mirrors/`` (read-only: the public
mirrors, every mirror for staff) and ``POST /api/v1/mirrors/<name>/reports/``, which only that
mirror's token may call."""

from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.decorators import action
from rest_framework.response import Response

from pypimirror.api import router

from .models import Mirror, MirrorURL, StatusReport
from .selectors import mirror_list, reports_by_id
from .services import report_record, token_authenticate

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


class IsTheMirror(permissions.BasePermission):
    """The token is that of the mirror named in the URL."""

    message = "This token belongs to another mirror: a mirror posts its own reports only."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Mirror) and request.auth.name == view.kwargs.get("name")


class MirrorURLSerializer(serializers.ModelSerializer):
    class Meta:
        model = MirrorURL
        fields = ["url", "protocol", "active"]


class StatusReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatusReport
        fields = [
            "received",
            "state",
            "serial",
            "software",
            "version",
            "free_disk_bytes",
            "maintenance_until",
        ]
        read_only_fields = ["received"]
        extra_kwargs = {
            "serial": {"min_value": 0},
            "free_disk_bytes": {"min_value": 0},
        }


class MirrorSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code", read_only=True)
    continent = serializers.CharField(read_only=True)
    follows = serializers.CharField(read_only=True)
    urls = MirrorURLSerializer(many=True, read_only=True)
    latest_report = serializers.SerializerMethodField()

    class Meta:
        model = Mirror
        fields = [
            "name",
            "operator",
            "country",
            "continent",
            "tier",
            "follows",
            "public",
            "active",
            "disabled_reason",
            "maintenance_until",
            "urls",
            "latest_report",
        ]

    def get_latest_report(self, mirror: Mirror) -> dict | None:
        report = self.context.get("reports", {}).get(getattr(mirror, "latest_report_id", None))
        return StatusReportSerializer(report).data if report else None


class MirrorViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = MirrorSerializer
    lookup_field = "name"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self):
        user = self.request.user
        return mirror_list(staff=bool(user and getattr(user, "is_staff", False)))

    def list(self, request, *args, **kwargs):
        mirrors = self.get_queryset()
        page = self.paginate_queryset(mirrors)
        if page is None:
            return Response(self._serialize(mirrors, many=True))
        return self.get_paginated_response(self._serialize(page, many=True))

    def retrieve(self, request, *args, **kwargs):
        return Response(self._serialize([self.get_object()], many=False))

    def _serialize(self, mirrors, *, many: bool):
        """Mirrors with their latest reports, read in one query for the page."""
        mirrors = list(mirrors)
        reports = reports_by_id(m.latest_report_id for m in mirrors)
        context = {**self.get_serializer_context(), "reports": reports}
        instance = mirrors if many else mirrors[0]
        return MirrorSerializer(instance, many=many, context=context).data

    @action(
        detail=True,
        methods=["post"],
        url_path="reports",
        authentication_classes=[MirrorTokenAuthentication],
        permission_classes=[permissions.IsAuthenticated, IsTheMirror],
        serializer_class=StatusReportSerializer,
    )
    def reports(self, request, name: str):
        """A mirror's own report of its state, with its token (a hint: probes decide health)."""
        serializer = StatusReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = report_record(mirror=request.auth, **serializer.validated_data)
        return Response(StatusReportSerializer(report).data, status=status.HTTP_201_CREATED)


router.register("mirrors", MirrorViewSet, basename="mirror")
