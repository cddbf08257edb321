from rest_framework.routers import DefaultRouter

from .api import SyncRunViewSet

router = DefaultRouter()
router.register("sync-runs", SyncRunViewSet, basename="sync-run")

urlpatterns = router.urls
