"""The REST API at ``/api/v1/``: one router for the whole project.

Each app's ``api.py`` registers its viewsets on ``router`` (``router.register("sync-runs", ...)``);
``api_urls()`` imports those modules, so adding an app's API needs no change here or in
``urls.py``. A web-process module: domain code (what ``manage.py sync`` imports) never imports it
(the TID253 lint in pyproject.toml).

The OpenAPI schema of what the router holds is at ``/api/schema/`` (drf-spectacular), its pages
at ``/api/docs/`` (Swagger UI), served from this node (the sidecar package).
"""

from importlib import import_module
from pkgutil import iter_modules

from django.apps import apps
from django.urls import path
from django.utils.module_loading import module_has_submodule
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

router = DefaultRouter()


def api_urls() -> list:
    """The router's URL patterns, once every project app's ``api`` module has registered."""
    for config in apps.get_app_configs():
        if config.name.startswith("apps.") and module_has_submodule(config.module, "api"):
            import_module(f"{config.name}.api")
            # and its companions, api_<purpose>.py (apps/network/api_reports.py), after it
            for module in sorted(m.name for m in iter_modules(config.module.__path__)):
                if module.startswith("api_"):
                    import_module(f"{config.name}.{module}")
    return router.urls


def schema_urls() -> list:
    """``/api/schema/`` (OpenAPI 3, YAML or ``?format=json``) and ``/api/docs/`` (Swagger UI).

    No Redoc: drf-spectacular's page for it loads fonts from Google, and this node may have no
    internet (nor should its readers' browsers be sent elsewhere)."""
    return [
        path("schema/", SpectacularAPIView.as_view(), name="schema"),
        path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="schema-docs"),
    ]


def schema_api_paths_only(endpoints: list, **kwargs) -> list:
    """drf-spectacular preprocessing hook: the schema describes ``/api/v1/``, not the index's
    pages (PEP 503/691), which are DRF views too."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]
