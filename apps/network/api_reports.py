"""``POST /api/v1/reports/``: a mirror's report, the mirror known by its token alone.

A node joins a network with two settings, the hub's URL and its token (apps/replication
hub_report.py): it needs no name of its own, as the token is scoped to one mirror. The same
report as ``POST /api/v1/mirrors/<name>/reports/`` (api.py), and the answer names the mirror.
Registered on the project's router like api.py (pypimirror/api.py imports every ``api*`` module
of an app).
"""

from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response

from pypimirror.api import router

from .api import MirrorTokenAuthentication
from .models import Mirror
from .serializers import StatusReportSerializer
from .services import report_record


class IsAMirror(permissions.BasePermission):
    """Authenticated by a mirror's token (not a session)."""

    message = "Send the mirror's token: Authorization: Bearer <token>."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Mirror)


class MirrorReportSerializer(StatusReportSerializer):
    """A report, with whose it is."""

    mirror = serializers.CharField(source="mirror.name", read_only=True)

    class Meta(StatusReportSerializer.Meta):
        fields = ["mirror", *StatusReportSerializer.Meta.fields]


class MirrorReportViewSet(mixins.CreateModelMixin, viewsets.GenericViewSet):
    """A mirror's own report of its state, with its token (a hint: probes decide health)."""

    serializer_class = MirrorReportSerializer
    authentication_classes = [MirrorTokenAuthentication]
    permission_classes = [IsAMirror]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = report_record(mirror=request.auth, **serializer.validated_data)
        return Response(self.get_serializer(report).data, status=status.HTTP_201_CREATED)


router.register("reports", MirrorReportViewSet, basename="mirror-report")
