"""The domain-apps rule, as pyproject.toml has ruff enforce it (TID253, banned module-level
imports): domain code does not import the framework apps, Celery, or the web and worker modules
at module level; the web and worker modules may."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

from tests.support.servers import PROJECT_ROOT

RUFF = Path(sys.executable).with_name("ruff")
# What manage.py sync imports: it runs with the domain apps alone.
DOMAIN_MODULES = [
    "apps/catalog/models.py",
    "apps/catalog/services.py",
    "apps/catalog/blobstore.py",
    "apps/index/selectors.py",
    "apps/replication/services.py",
    "apps/replication/runner.py",
    "apps/replication/planner.py",
    "apps/replication/clients/http.py",
    "apps/replication/management/commands/sync.py",
    "pypimirror/settings/base.py",
]
# Modules only the web process, the workers and beat import.
WEB_AND_WORKER_MODULES = [
    "apps/catalog/admin.py",
    "apps/catalog/admin_takedowns.py",
    "apps/catalog/api.py",
    "apps/replication/api.py",
    "apps/replication/tasks.py",
    "apps/replication/schedules.py",
    "apps/index/views/simple.py",
    "apps/network/api.py",
    "apps/network/tasks.py",
    "apps/network/services.py",  # the network is a framework app as a whole
    "pypimirror/admin_lists.py",
    "pypimirror/api.py",
    "pypimirror/celery.py",
]
IMPORTS = [  # the first four in isort's order
    "from celery import shared_task",
    "from django.contrib.auth.models import User",
    "from django_celery_beat.models import PeriodicTask",
    "from rest_framework import viewsets",
    "from django.contrib import admin",
    "from pypimirror.api import router",
    "from apps.replication.tasks import sync_projects",
    "from apps.network.models import Mirror",
]


def lint(source: str, *, as_file: str) -> subprocess.CompletedProcess:
    """``ruff check`` of ``source`` as if it were the project's file ``as_file``, with the
    project's configuration."""
    return subprocess.run(
        [RUFF, "check", "--no-cache", "--output-format", "concise", "--stdin-filename", as_file],
        input=source,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("path", DOMAIN_MODULES)
@pytest.mark.parametrize("statement", IMPORTS)
def test_module_level_framework_import_in_domain_code_is_a_lint_error(path, statement):
    result = lint(f"{statement}\n\nprint({statement.split()[-1]})\n", as_file=path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{path}:1:" in result.stdout
    assert "TID253" in result.stdout


@pytest.mark.parametrize("path", DOMAIN_MODULES)
def test_the_same_import_inside_a_function_is_allowed(path):
    source = "def later() -> None:\n    from celery import shared_task\n\n    print(shared_task)\n"

    result = lint(source, as_file=path)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WEB_AND_WORKER_MODULES)
def test_web_and_worker_modules_may_import_the_framework(path):
    source = "".join(f"{statement}\n" for statement in IMPORTS[:4])
    source += "\nprint(shared_task, viewsets, PeriodicTask, User)\n"

    result = lint(source, as_file=path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_framework_app_is_banned_from_domain_code():
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    banned = config["tool"]["ruff"]["lint"]["flake8-tidy-imports"]["banned-module-level-imports"]
    framework = {config.name for config in apps.get_app_configs()} - set(settings.DOMAIN_APPS)

    assert framework, "the tests run with every app installed"
    assert framework <= set(banned)
