from django.contrib.admin.apps import SimpleAdminConfig
from django.contrib.admin.checks import check_dependencies
from django.core import checks

from .admin import check_admin_site


class AdminConfig(SimpleAdminConfig):
    """django.contrib.admin with the site of pypimirror/admin.py, which registers the apps'
    ModelAdmins on first use rather than here."""

    default_site = "pypimirror.admin.AdminSite"

    def ready(self) -> None:
        checks.register(check_dependencies, checks.Tags.admin)
        checks.register(check_admin_site, checks.Tags.admin)
        # The admin sends tasks ("Sync now") and django-celery-beat's admin lists them, from
        # Celery's current app: this project's must exist by then. Processes without the admin
        # (manage.py sync) load it only when they hand work to the workers.
        import pypimirror.celery  # noqa: F401
