from django.contrib import admin
from django.urls import include, path

from .api import api_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_urls())),
    path("", include("apps.index.urls")),
]
