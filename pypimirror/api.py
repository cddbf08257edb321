"""The REST API at ``/api/v1/``: one router for the whole project.

Each app's ``api.py`` registers its viewsets on ``router`` (``router.register("sync-runs", ...)``);
``api_urls()`` imports those modules, so adding an app's API needs no change here or in
``urls.py``. A web-process module: domain code (what ``manage.py sync`` imports) never imports it
(the TID253 lint in pyproject.toml).
"""

from importlib import import_module
from pkgutil import iter_modules

from django.apps import apps
from django.utils.module_loading import module_has_submodule
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
