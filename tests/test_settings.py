"""pypimirror/settings: the app sets PYPIMIRROR_APPS chooses between, read in a fresh process
(settings are read once per process)."""

import os
import re
import secrets
import subprocess
import sys
import tempfile

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


def documented_production_env() -> dict[str, str]:
    """The lines of /etc/pypimirror/env that deploy/README.md gives, and what the units add, the
    secret key placeholder filled in."""
    readme = (PROJECT_ROOT / "deploy" / "README.md").read_text()
    block = readme.split("`/etc/pypimirror/env` (systemd", 1)[1].split("```sh\n", 1)[1]
    documented = dict(
        line.split("=", 1) for line in block.split("```", 1)[0].splitlines() if "=" in line
    )
    assert documented["DJANGO_SECRET_KEY"].startswith("<")
    documented["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    units = (PROJECT_ROOT / "deploy" / "systemd" / "pypimirror-web.service").read_text()
    for key, value in re.findall(r"^Environment=(\w+)=(.*)$", units, flags=re.MULTILINE):
        documented.setdefault(key, value)
    return documented


def check_deploy(**overrides: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYPIMIRROR_", "CELERY_", "GUNICORN_"))
        and k not in {"DATABASE_URL", "CACHE_URL"}
    }
    env |= documented_production_env() | overrides
    env["PYPIMIRROR_DATA_DIR"] = tempfile.mkdtemp(prefix="pm-check-deploy-")
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_warns_of_nothing_with_the_documented_production_environment():
    result = check_deploy()

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert "WARNING" not in result.stderr


def test_check_deploy_names_what_an_operator_turned_off():
    result = check_deploy(DJANGO_SECURE_HSTS_SECONDS="0", DJANGO_SECURE_SSL_REDIRECT="false")

    assert result.returncode != 0
    assert "security.W004" in result.stderr
    assert "security.W008" in result.stderr


def test_s3_settings_refuse_x_accel_redirect_and_an_unknown_serving_mode():
    accel = check_deploy(PYPIMIRROR_S3_BUCKET="blobs")
    assert accel.returncode != 0
    assert "PYPIMIRROR_X_ACCEL_REDIRECT sends files from the local store" in accel.stderr

    mode = check_deploy(
        PYPIMIRROR_S3_BUCKET="blobs", PYPIMIRROR_X_ACCEL_REDIRECT="", PYPIMIRROR_S3_SERVE="proxy"
    )
    assert mode.returncode != 0
    assert "PYPIMIRROR_S3_SERVE is redirect or stream, not 'proxy'" in mode.stderr
