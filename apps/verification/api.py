"""The read-only REST API of verify runs and their findings: ``/api/v1/verify-runs/`` and
``/api/v1/verify-findings/`` (on the project's router)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import filters, serializers, viewsets

from pypimirror.api import router

from .models import Finding, VerifyRun


class VerifyRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = VerifyRun
        fields = [
            "id",
            "state",
            "trigger",
            "repair",
            "delete_orphans",
            "projects",
            "started",
            "updated",
            "finished",
            "cursor",
            "files_total",
            "files_checked",
            "bytes_checked",
            "orphans_walked",
            "orphans_cursor",
            "findings_count",
            "resumed",
            "error",
        ]


class FindingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Finding
        fields = [
            "id",
            "run",
            "kind",
            "blob",
            "path",
            "project",
            "filename",
            "distribution_id",
            "expected_sha256",
            "actual_sha256",
            "expected_size",
            "actual_size",
            "found",
            "repair",
            "repair_detail",
            "repaired",
        ]


class FindingFilterSerializer(serializers.Serializer):
    """The list's filters, checked before they reach a query (a 400 naming the parameter)."""

    run = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    kind = serializers.ChoiceField(choices=Finding.Kind.choices, required=False, allow_blank=True)


class FindingFilter(filters.BaseFilterBackend):
    """``?run=<id>`` and ``?kind=<kind>``."""

    def filter_queryset(self, request, queryset, view):
        params = FindingFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        if run := params.validated_data.get("run"):
            queryset = queryset.filter(run_id=run)
        if kind := params.validated_data.get("kind"):
            queryset = queryset.filter(kind=kind)
        return queryset


class VerifyRunViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = VerifyRun.objects.order_by("-started", "-id")
    serializer_class = VerifyRunSerializer
    filter_backends = []


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("run", int, description="Findings of this verify run (its id)."),
            OpenApiParameter(
                "kind", str, enum=Finding.Kind.values, description="Findings of this kind."
            ),
        ]
    )
)
class FindingViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Finding.objects.order_by("-id")
    serializer_class = FindingSerializer
    filter_backends = [FindingFilter]


router.register("verify-runs", VerifyRunViewSet, basename="verify-run")
router.register("verify-findings", FindingViewSet, basename="verify-finding")
