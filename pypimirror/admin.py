"""The admin site: Django's, with the apps' ModelAdmins registered when the site is first used."""

from datetime import timedelta

from django.contrib import admin
from django.contrib.admin.checks import check_admin_app
from django.utils import timezone

# The admin's home page counts the node's runs that failed within this many days.
FAILED_RUNS_DAYS = 7


class AdminSite(admin.AdminSite):
    """``admin.autodiscover()`` runs on the site's first use (its URLs, or its system checks)
    instead of at ``django.setup()``: it imports every app's admin module and the admin's forms,
    which commands such as ``manage.py sync`` never use (~50 ms of their start-up)."""

    # No app list beside every page (the home page and the breadcrumbs lead everywhere): at
    # 1280 px it took a quarter of the width from the change lists, which have filters too.
    enable_nav_sidebar = False
    # The home page: this node's syncs and the mirror network at a glance above the models.
    index_template = "admin/network/index.html"
    _discovered = False

    def discover(self) -> None:
        if not self._discovered:
            admin.autodiscover()
            self._discovered = True

    def get_urls(self):
        self.discover()
        return super().get_urls()

    def index(self, request, extra_context=None):
        """The home page, with this node's syncs (each upstream's lag, the runs that failed
        lately) and the network (mirrors by health, the disabled ones): a fixed number of
        queries, whatever the number of mirrors, probes and runs."""
        from apps.network.overview import network_glance
        from apps.replication.selectors import sync_runs_failed, upstream_status_list

        now = timezone.now()
        failed_count, failed = sync_runs_failed(since=now - timedelta(days=FAILED_RUNS_DAYS))
        context = {
            "upstreams": upstream_status_list(),
            "failed_runs": failed,
            "failed_runs_count": failed_count,
            "failed_runs_days": FAILED_RUNS_DAYS,
            "network": network_glance(now=now),
            **(extra_context or {}),
        }
        return super().index(request, extra_context=context)


def check_admin_site(app_configs, **kwargs):
    """Django's checks of the registered ModelAdmins, once they are registered: the URL checks
    that would register them may run after this one."""
    admin.site.discover()
    return check_admin_app(app_configs, **kwargs)
