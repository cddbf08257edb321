from django.contrib import admin
from django.urls import include, path

from .api import api_urls, schema_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_urls())),
    path("api/", include(schema_urls())),
    path("", include("apps.index.urls")),
]
