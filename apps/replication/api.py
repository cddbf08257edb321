"""The read-only REST API of sync runs: ``/api/v1/sync-runs/`` (on the project's router)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import filters, serializers, viewsets

from pypimirror.api import router

from .models import SyncRun, Upstream
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


class SyncRunFilterSerializer(serializers.Serializer):
    """The list's filters, checked before they reach a query: a state that is none of the
    states, an upstream name longer than any, or a NUL (which PostgreSQL text cannot hold, so
    the query would fail) is a 400 naming the parameter. Empty means "no filter"."""

    upstream = serializers.CharField(
        required=False, allow_blank=True, max_length=Upstream._meta.get_field("name").max_length
    )
    state = serializers.ChoiceField(choices=SyncRun.State.choices, required=False, allow_blank=True)


class SyncRunFilter(filters.BaseFilterBackend):
    """``?upstream=<name>`` and ``?state=<state>``, validated by SyncRunFilterSerializer."""

    def filter_queryset(self, request, queryset, view):
        params = SyncRunFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        if upstream := params.validated_data.get("upstream"):
            queryset = queryset.filter(upstream__name=upstream)
        if state := params.validated_data.get("state"):
            queryset = queryset.filter(state=state)
        return queryset


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
    filter_backends = [SyncRunFilter]


router.register("sync-runs", SyncRunViewSet, basename="sync-run")
