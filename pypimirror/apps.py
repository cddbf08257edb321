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
