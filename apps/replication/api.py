"""The read-only REST API of sync runs: ``/api/v1/sync-runs/`` (on the project's router)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from pypimirror.api import router

from .models import SyncRun
from .redaction import redact_url


class SyncRunSerializer(serializers.ModelSerializer):
    upstream = serializers.CharField(source="upstream.name")
    upstream_url = serializers.SerializerMethodField()

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "upstream",
            "upstream_url",
            "trigger",
            "state",
            "started",
            "finished",
            "serial_from",
            "serial_to",
            "projects_planned",
            "projects_done",
            "projects_failed",
            "projects_skipped",
            "projects_shadowed",
            "files_fetched",
            "bytes_fetched",
            "error",
            "errors",
            "shadowed",
        ]

    def get_upstream_url(self, run: SyncRun) -> str:
        """Credentials masked: ``http://***@host/?token=***``."""
        return redact_url(run.upstream.url)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("upstream", str, description="Runs of this upstream (its name)."),
            OpenApiParameter(
                "state", str, enum=SyncRun.State.values, description="Runs in this state."
            ),
        ]
    )
)
class SyncRunViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = SyncRun.objects.select_related("upstream").order_by("-started")
    serializer_class = SyncRunSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if upstream := self.request.query_params.get("upstream"):
            queryset = queryset.filter(upstream__name=upstream)
        if state := self.request.query_params.get("state"):
            queryset = queryset.filter(state=state)
        return queryset


router.register("sync-runs", SyncRunViewSet, basename="sync-run")
