from django.urls import path, re_path

from .views import files, health, home, jsonapi, lastmodified, simple, xmlrpc

app_name = "index"

urlpatterns = [
    path("", home.home, name="home"),
    path("simple/", simple.SimpleRootView.as_view(), name="simple-root"),
    path("simple/<str:name>/", simple.SimpleProjectView.as_view(), name="simple-project"),
    path("pypi/<str:name>/json", jsonapi.project_json, name="project-json"),
    path("pypi/<str:name>/<str:version>/json", jsonapi.release_json, name="release-json"),
    # XML-RPC: PyPI answers at /pypi; bandersnatch 6 posts to /pypi/.
    re_path(r"^pypi/?$", xmlrpc.xmlrpc_endpoint, name="xmlrpc"),
    re_path(r"^packages/(?P<path>.+)$", files.serve_file, name="file"),
    path(
        "integrity/<str:project>/<str:version>/<str:filename>/provenance",
        files.serve_provenance,
        name="provenance",
    ),
    path("last-modified", lastmodified.last_modified, name="last-modified"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
