"""pypimirror/settings: the app sets PYPIMIRROR_APPS chooses between, read in a fresh process
(settings are read once per process)."""

import os
import subprocess
import sys

from tests.support.servers import PROJECT_ROOT

PRINT_APPS = "from django.conf import settings; print(' '.join(settings.INSTALLED_APPS))"


def installed_apps(apps: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYPIMIRROR_APPS"}
    env["DJANGO_SETTINGS_MODULE"] = "pypimirror.settings.local"
    if apps is not None:
        env["PYPIMIRROR_APPS"] = apps
    return subprocess.run(
        [sys.executable, "-c", PRINT_APPS],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_app_is_installed_by_default():
    apps = installed_apps(None).stdout.split()

    assert apps[-3:] == ["apps.catalog", "apps.index", "apps.replication"]
    assert {"pypimirror.apps.AdminConfig", "rest_framework", "django_celery_beat"} <= set(apps)
    assert "apps.network" in apps  # a framework app: the sync process has no use for it
    assert installed_apps("all").stdout.split() == apps


def test_domain_installs_the_domain_apps_alone():
    assert installed_apps("domain").stdout.split() == [
        "apps.catalog",
        "apps.index",
        "apps.replication",
    ]


def test_an_unknown_app_set_is_refused_with_the_known_ones():
    result = installed_apps("web")

    assert result.returncode != 0
    assert "PYPIMIRROR_APPS must be one of all, domain, not 'web'" in result.stderr
