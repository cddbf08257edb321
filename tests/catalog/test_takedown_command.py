"""``manage.py takedown NAME [--release V | --file FILENAME] --reason TEXT [--lift]``."""

import io

import pytest
from django.core.management import CommandError, call_command

from apps.catalog.importing import distribution_import
from apps.catalog.models import Distribution, JournalEntry, Project, Takedown
from tests.support.dists import DistSpec, build_sdist, build_wheel

pytestmark = pytest.mark.django_db

WHEEL = "foo-1.0-py3-none-any.whl"


@pytest.fixture(autouse=True)
def project(tmp_path):
    spec = DistSpec("Foo", "1.0")
    distribution_import(build_wheel(spec, tmp_path))
    distribution_import(build_sdist(spec, tmp_path))


def takedown(*args: str) -> str:
    out = io.StringIO()
    call_command("takedown", *args, stdout=out)
    return out.getvalue()


def test_file_takedown_says_what_it_did_and_records_the_command_line_user():
    output = takedown("foo", "--file", WHEEL, "--reason", "malware")

    assert f"Took down file {WHEEL}" in output
    assert "1 file(s) removed" in output
    record = Takedown.objects.get()
    assert record.created_by.startswith("command-line (") and "@" in record.created_by
    assert record.reason == "malware"
    assert not Distribution.objects.filter(filename=WHEEL).exists()


def test_release_and_project_takedowns_and_their_lifts():
    assert "Took down release Foo 1.0" in takedown("Foo", "--release", "1.0", "--reason", "x")
    assert "Took down project Foo" in takedown("foo", "--reason", "x", "--by", "legal team")
    assert Takedown.objects.filter(created_by="legal team").exists()

    assert "Lifted takedown" in takedown("foo", "--lift", "--by", "bob")
    assert Project.objects.get().status == Project.Status.ACTIVE
    output = takedown("foo", "--release", "1.0", "--lift")
    assert "Served again: " in output
    assert Distribution.objects.count() == 2


def test_lift_says_what_is_left_to_the_next_sync():
    takedown("foo", "--file", WHEEL, "--reason", "malware")
    takedown("foo", "--release", "1.0", "--reason", "malware")

    output = takedown("foo", "--file", WHEEL, "--lift")

    assert f"Left to the project's next sync: {WHEEL} (another takedown holds it)" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "--reason", "x"], "no project named 'nope'"),
        (["../../etc", "--file", "../../passwd", "--reason", "x"], "no project named"),
        (["foo", "--file", "../../../etc/passwd", "--reason", "x"], "has no file named"),
        (["foo", "--release", "9", "--reason", "x"], "has no release '9'"),
        (["foo"], "--reason is required"),
        (["foo", "--reason", " "], "--reason is required"),
        (["foo", "--lift"], "Foo is not taken down"),
        (["foo", "--file", WHEEL, "--lift"], f"{WHEEL} is not taken down"),
    ],
)
def test_bad_input_exits_non_zero_with_a_message_and_changes_nothing(args, message):
    journal = JournalEntry.objects.count()

    with pytest.raises(CommandError, match=message) as raised:
        takedown(*args)

    assert raised.value.returncode == 2
    assert JournalEntry.objects.count() == journal
    assert not Takedown.objects.exists()


def test_release_and_file_are_mutually_exclusive(capsys):
    with pytest.raises(CommandError, match="not allowed with argument"):
        call_command("takedown", "foo", "--release", "1.0", "--file", WHEEL, "--reason", "x")
