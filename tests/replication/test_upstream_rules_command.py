"""``manage.py upstream_rules NAME --show | --set FILE.json | --from-bandersnatch FILE``: exit 0
when done, 2 for a bad file or an unknown upstream, and then nothing changed."""

import json

import pytest

from apps.replication.models import Upstream

from .test_bandersnatch_config import FULL
from .test_sync_command import manage

pytestmark = pytest.mark.django_db(transaction=True)

RULES = {"allow": ["alpha", "beta"], "prereleases": False}


@pytest.fixture
def row() -> Upstream:
    return Upstream.objects.create(name="up", url="http://127.0.0.1:9/", rules=RULES)


def stored() -> dict:
    return Upstream.objects.get(name="up").rules


def test_show_prints_the_rules_as_json(row, capsys):
    assert manage("upstream_rules", "up", "--show") == 0

    assert json.loads(capsys.readouterr().out) == RULES


def test_set_replaces_the_rules_normalized(row, tmp_path, capsys):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"block": ["Foo.Bar"], "latest": 2, "max_file_size": "1M"}))

    assert manage("upstream_rules", "up", "--set", str(path)) == 0

    assert stored() == {"block": ["foo-bar"], "latest": 2, "max_file_size": 2**20}
    assert "Rules of up replaced; its next sync applies them." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"allow": ["a"],}', "not JSON: "),
        ('{"allow": ["a"], "latest": "three"}', "latest: must be a whole number"),
        ('{"allowlist": ["a"]}', "unknown key(s): allowlist"),
        (b"\xff\xfe", "not UTF-8 text"),
    ],
)
def test_bad_json_file_exits_2_and_changes_nothing(row, tmp_path, capsys, text, message):
    path = tmp_path / "rules.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())

    assert manage("upstream_rules", "up", "--set", str(path)) == 2

    err = capsys.readouterr().err
    assert f"{path}: " in err and message in err
    assert stored() == RULES


def test_missing_file_exits_2(row, tmp_path, capsys):
    assert manage("upstream_rules", "up", "--set", str(tmp_path / "nope.json")) == 2

    assert "No such file or directory" in capsys.readouterr().err
    assert stored() == RULES


def test_from_bandersnatch_takes_the_filter_sections_of_a_real_config(row, tmp_path, capsys):
    path = tmp_path / "bandersnatch.conf"
    path.write_text(FULL)

    assert manage("upstream_rules", "up", "--from-bandersnatch", str(path)) == 0

    rules = stored()
    assert rules["allow"] == ["black", "numpy", "ptr", "requests"]
    assert rules["versions"] == {"black": "==18.5", "requests": "<3,>=2"}
    assert (rules["latest"], rules["prereleases"], rules["max_project_size"]) == (3, False, 2**30)
    assert json.loads(capsys.readouterr().out.split("\nRules of up")[0]) == rules


def test_bandersnatch_section_that_cannot_be_translated_exits_2_naming_it(row, tmp_path, capsys):
    path = tmp_path / "bandersnatch.conf"
    enabled = "    latest_release\n"
    path.write_text(
        FULL.replace(enabled, enabled + "    regex_release_file_metadata\n")
        + "\n[regex_release_file_metadata]\nany:release_file.packagetype =\n    sdist\n"
    )

    assert manage("upstream_rules", "up", "--from-bandersnatch", str(path)) == 2

    err = capsys.readouterr().err
    assert "[plugins] regex_release_file_metadata: cannot be translated into rules" in err
    assert stored() == RULES


def test_unknown_upstream_exits_2(row, capsys):
    assert manage("upstream_rules", "nope", "--show") == 2

    assert "no upstream named 'nope' (configured: up)" in capsys.readouterr().err
