"""``manage.py mirror_add NAME URL [--country CC] [--email ADDR] [--follows MIRROR|URL]``."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.network.models import Mirror
from apps.network.services import token_authenticate
from tests.support.servers import PROJECT_ROOT

pytestmark = pytest.mark.django_db


def mirror_add(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("mirror_add", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_mirror_add_creates_the_mirror_and_prints_its_token_alone_on_stdout(capsys):
    token, _ = mirror_add(
        "alpha", "https://alpha.example.org/pypi", "--country", "de", "--email", "a@example.org"
    )

    mirror = Mirror.objects.get(name="alpha")
    assert (mirror.country.code, mirror.admin_email, mirror.follows) == (
        "DE",
        "a@example.org",
        "this hub",
    )
    assert [u.url for u in mirror.urls.all()] == ["https://alpha.example.org/pypi/"]
    assert token_authenticate(token=token) == mirror
    assert "shown this once" in capsys.readouterr().err


def test_follows_takes_a_registered_mirror_or_a_url():
    mirror_add("alpha", "https://alpha.example.org/")
    mirror_add("beta", "https://beta.example.org/", "--follows", "alpha")
    mirror_add("gamma", "https://gamma.example.org/", "--follows", "https://pypi.org/")

    beta, gamma = Mirror.objects.get(name="beta"), Mirror.objects.get(name="gamma")
    assert (beta.follows_mirror.name, beta.tier) == ("alpha", 2)
    assert (gamma.follows_url, gamma.tier) == ("https://pypi.org/", 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["alpha", "https://a.example.org/", "--country", "XX"], "country"),
        (["alpha", "ftp://a.example.org/"], "url"),
        (["alpha", "https://a.example.org/", "--follows", "nobody"], "no mirror of that name"),
        (["alpha", "https://a.example.org/", "--email", "nope"], "admin_email"),
        (["not a slug", "https://a.example.org/"], "name"),
        (["best", "https://a.example.org/"], "a word of the API's URLs"),
    ],
)
def test_bad_input_exits_2_and_adds_nothing(args, message):
    with pytest.raises(CommandError) as caught:
        mirror_add(*args)

    assert caught.value.returncode == 2
    assert message in str(caught.value)
    assert not Mirror.objects.exists()


def test_a_duplicate_name_exits_2():
    mirror_add("alpha", "https://alpha.example.org/")

    with pytest.raises(CommandError) as caught:
        mirror_add("alpha", "https://other.example.org/")

    assert caught.value.returncode == 2
    assert "already exists" in str(caught.value)
    assert Mirror.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_mirror_add_as_an_operator_runs_it():
    """The real command in its own process, on the test database: the token on stdout, the
    explanation on stderr; an unknown country is exit 2 with a message."""
    from django.db import connection

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "pypimirror.settings.test"}
    env["DATABASE_URL"] = _database_url(connection.settings_dict)

    def run(*args):
        return subprocess.run(
            [sys.executable, "manage.py", "mirror_add", *args],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    added = run("alpha", "https://alpha.example.org/", "--country", "NL")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert token_authenticate(token=token) == Mirror.objects.get(name="alpha")
    assert "alpha" in added.stderr

    refused = run("beta", "https://beta.example.org/", "--country", "ZZ")
    assert refused.returncode == 2
    assert "country" in refused.stderr
    assert not Mirror.objects.filter(name="beta").exists()


def _database_url(db: dict) -> str:
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
