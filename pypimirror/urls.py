from django.contrib import admin
from django.urls import include, path

from .api import api_urls, schema_urls
from .metrics import metrics

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_urls())),
    path("api/", include(schema_urls())),
    path("metrics", metrics, name="metrics"),
    path("", include("apps.index.urls")),
]
