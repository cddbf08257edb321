"""The read-only REST API of takedowns: ``/api/v1/takedowns/`` (on the project's router).

Staff only (a logged-in staff session): who took what down and why (a legal request, say) is
the node's own record, not public. What was removed is public anyway, in the journal and in
every page that no longer lists it."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import filters, permissions, serializers, viewsets

from pypimirror.api import router

from .models import Takedown


class TakedownSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.normalized_name")
    standing = serializers.BooleanField(read_only=True)
    files = serializers.SlugRelatedField(many=True, read_only=True, slug_field="filename")

    class Meta:
        model = Takedown
        fields = [
            "id",
            "project",
            "scope",
            "version",
            "filename",
            "reason",
            "created_by",
            "created_at",
            "standing",
            "lifted_by",
            "lifted_at",
            "files",
        ]


class TakedownFilterSerializer(serializers.Serializer):
    """``?standing=true|false``, checked before it reaches a query (a 400 naming it)."""

    standing = serializers.BooleanField(required=False, allow_null=True, default=None)


class TakedownFilter(filters.BaseFilterBackend):
    def filter_queryset(self, request, queryset, view):
        params = TakedownFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        standing = params.validated_data.get("standing")
        if standing is not None:
            queryset = queryset.filter(lifted_at__isnull=standing)
        return queryset


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "standing", bool, description="Standing takedowns (true) or lifted ones (false)."
            )
        ]
    )
)
class TakedownViewSet(viewsets.ReadOnlyModelViewSet):
    """Takedowns, newest first, standing and lifted (staff only)."""

    queryset = (
        Takedown.objects.select_related("project")
        .prefetch_related("files")
        .order_by("-created_at", "-id")
    )
    serializer_class = TakedownSerializer
    filter_backends = [TakedownFilter]
    permission_classes = [permissions.IsAdminUser]


router.register("takedowns", TakedownViewSet, basename="takedown")
