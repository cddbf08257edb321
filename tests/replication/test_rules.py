"""The rules of a partial mirror, as plain functions: parsing, and what each kind lets in."""

import pytest

from apps.replication.clients.base import RemoteFile, RemoteProject
from apps.replication.clients.parsing import file_facts
from apps.replication.rules import (
    EVERYTHING,
    RulesError,
    file_allowed,
    files_wanted,
    project_allowed,
    remote_project_apply,
    rules_fingerprint,
    rules_from_json,
    version_allowed,
)


def rf(filename: str, *, size: int | None = 100) -> RemoteFile:
    """A remote file with the facts a client reads from its name."""
    version, packagetype, python_version = file_facts(filename)
    return RemoteFile(
        filename=filename,
        url=f"http://up/{filename}",
        sha256="0" * 64,
        size=size,
        version=version,
        packagetype=packagetype,
        python_version=python_version,
    )


def wanted(rules: dict, filenames: list[str], name: str = "demo") -> list[str]:
    kept = files_wanted(rules_from_json(rules), name, [rf(f) for f in filenames])
    return [f.filename for f in kept]


# Parsing


def test_empty_rules_mirror_everything():
    assert rules_from_json({}) == EVERYTHING
    assert rules_from_json(None).is_empty
    assert rules_from_json({}).to_json() == {}


def test_rules_round_trip_through_json_with_names_normalized():
    rules = rules_from_json(
        {
            "allow": ["Foo.Bar", "idna"],
            "block_regex": ["-evil$"],
            "versions": {"Foo_Bar": ">=1.0,<2"},
            "prereleases": False,
            "latest": 2,
            "exclude_platform_tags": ["WIN_*"],
            "max_file_size": "1.5K",
        }
    )

    assert rules.to_json() == {
        "allow": ["foo-bar", "idna"],
        "block_regex": ["-evil$"],
        "versions": {"foo-bar": "<2,>=1.0"},
        "prereleases": False,
        "latest": 2,
        "exclude_platform_tags": ["win_*"],
        "max_file_size": 1536,
    }
    assert rules_from_json(rules.to_json()) == rules


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "rules must be a JSON object, not list"),
        ({"allowlist": ["a"]}, "unknown key(s): allowlist"),
        ({"allow": "requests"}, "allow: must be a list of non-empty strings"),
        ({"block": [""]}, "block: must be a list of non-empty strings"),
        ({"allow_regex": ["("]}, "allow_regex: '(' is no regular expression"),
        ({"versions": {"a": "=>1"}}, "versions: 'a': '=>1' is no version specifier"),
        ({"versions": ["a>1"]}, "versions: must be an object"),
        ({"prereleases": "no"}, "prereleases: must be true or false"),
        ({"latest": 0}, "latest: must be a whole number of at least 1"),
        ({"latest": True}, "latest: must be a whole number of at least 1"),
        ({"max_file_size": "lots"}, "max_file_size: 'lots' is no size"),
        ({"max_project_size": -1}, "max_project_size: -1 is no size"),
    ],
)
def test_bad_rules_are_refused_naming_the_key(data, message):
    with pytest.raises(RulesError) as error:
        rules_from_json(data)

    assert message in str(error.value)


def test_fingerprint_changes_with_the_rules_and_not_with_their_spelling():
    assert rules_fingerprint(EVERYTHING) == ""
    one = rules_fingerprint(rules_from_json({"allow": ["A", "b"]}))
    assert one == rules_fingerprint(rules_from_json({"allow": ["b", "a"]}))
    assert one != rules_fingerprint(rules_from_json({"allow": ["a"]}))


# Projects by name


def test_allow_list_lets_in_only_its_names_normalized():
    rules = rules_from_json({"allow": ["Foo.Bar"]})

    assert project_allowed(rules, "foo_bar")
    assert project_allowed(rules, "FOO-BAR")
    assert not project_allowed(rules, "foo")


def test_allow_regex_adds_to_the_allow_list():
    rules = rules_from_json({"allow": ["idna"], "allow_regex": ["^django-"]})

    assert project_allowed(rules, "idna")
    assert project_allowed(rules, "Django_Rest")
    assert not project_allowed(rules, "django")


def test_block_list_and_regex_keep_names_out_even_when_allowed():
    rules = rules_from_json(
        {"allow_regex": ["^py"], "block": ["PyEvil"], "block_regex": ["-evil$"]}
    )

    assert project_allowed(rules, "pytest")
    assert not project_allowed(rules, "pyevil")
    assert not project_allowed(rules, "pycode-evil")
    assert not project_allowed(rules, "requests")


# Releases


def test_version_specifiers_apply_to_their_project_only():
    rules = rules_from_json({"versions": {"demo": ">=2,<3"}})

    assert wanted(
        {"versions": {"demo": ">=2,<3"}},
        ["demo-1.0.tar.gz", "demo-2.0.tar.gz", "demo-2.5-py3-none-any.whl", "demo-3.0.tar.gz"],
    ) == ["demo-2.0.tar.gz", "demo-2.5-py3-none-any.whl"]
    assert version_allowed(rules, "other", "1.0")
    assert not version_allowed(rules, "demo", "2004d")  # no PEP 440 version matches nothing


def test_blocked_versions_and_version_regexes_are_left_out():
    rules = {"block_versions": {"demo": "==1.5"}, "block_version_regex": [r"\.post"]}

    assert wanted(rules, ["demo-1.0.tar.gz", "demo-1.5.tar.gz", "demo-1.6.post1.tar.gz"]) == [
        "demo-1.0.tar.gz"
    ]


def test_prereleases_off_leaves_them_out():
    files = ["demo-1.0.tar.gz", "demo-2.0b1.tar.gz", "demo-2.0.dev3.tar.gz", "demo-2004d.tar.gz"]

    assert wanted({"prereleases": False}, files) == ["demo-1.0.tar.gz", "demo-2004d.tar.gz"]
    assert wanted({}, files) == files


def test_latest_keeps_the_newest_releases_by_pep_440_order():
    files = [
        "demo-1.10.tar.gz",
        "demo-1.9.tar.gz",
        "demo-1.9-py3-none-any.whl",
        "demo-1.2.tar.gz",
        "demo-2.0rc1.tar.gz",
    ]

    assert wanted({"latest": 2}, files) == [
        "demo-1.10.tar.gz",
        "demo-2.0rc1.tar.gz",
    ]
    assert wanted({"latest": 2, "prereleases": False}, files) == [
        "demo-1.10.tar.gz",
        "demo-1.9.tar.gz",
        "demo-1.9-py3-none-any.whl",
    ]


def test_latest_counts_only_releases_the_other_rules_leave_a_file_in():
    files = ["demo-1.0.tar.gz", "demo-2.0-cp312-cp312-win_amd64.whl"]

    assert wanted({"latest": 1, "exclude_platform_tags": ["win_*"]}, files) == ["demo-1.0.tar.gz"]


# Files


def test_platform_tags_exclude_a_wheel_only_when_every_tag_matches():
    files = [
        "demo-1.0-cp312-cp312-win_amd64.whl",
        "demo-1.0-cp312-cp312-win32.whl",
        "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "demo-1.0-cp312-cp312-macosx_10_9_x86_64.macosx_11_0_arm64.whl",
        "demo-1.0-py3-none-any.whl",
        "demo-1.0.tar.gz",
    ]

    assert wanted({"exclude_platform_tags": ["win32", "win_*", "macosx_*"]}, files) == [
        "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "demo-1.0-py3-none-any.whl",
        "demo-1.0.tar.gz",
    ]
    assert wanted({"exclude_platform_tags": ["manylinux2014_*"]}, files) == files


def test_platforms_of_eggs_and_windows_installers_count_too():
    rules = rules_from_json({"exclude_platform_tags": ["win32", "linux_*"]})

    assert not file_allowed(rules, rf("demo-0.5.win32-py2.7.exe"))
    assert not file_allowed(rules, rf("demo-0.5-py2.7-linux-x86_64.egg"))
    assert file_allowed(rules, rf("demo-0.5-py2.7.egg"))


def test_python_tags_exclude_a_file_only_when_every_tag_matches():
    files = [
        "demo-1.0-cp27-cp27mu-manylinux1_x86_64.whl",
        "demo-1.0-py2-none-any.whl",
        "demo-1.0-py2.py3-none-any.whl",
        "demo-1.0-cp312-abi3-manylinux1_x86_64.whl",
        "demo-1.0-py2.7.egg",
        "demo-1.0.tar.gz",
    ]

    assert wanted({"exclude_python_tags": ["cp27", "py2", "py27"]}, files) == [
        "demo-1.0-py2.py3-none-any.whl",
        "demo-1.0-cp312-abi3-manylinux1_x86_64.whl",
        "demo-1.0.tar.gz",
    ]


def test_packagetypes_are_excluded_by_name():
    files = ["demo-1.0.tar.gz", "demo-1.0-py2.7.egg", "demo-1.0.win32.exe", "demo-1.0.zip"]

    assert wanted({"exclude_packagetypes": ["bdist_egg", "bdist_wininst"]}, files) == [
        "demo-1.0.tar.gz",
        "demo-1.0.zip",
    ]


def test_maximum_file_size_leaves_bigger_files_out():
    rules = rules_from_json({"max_file_size": "1K"})

    assert file_allowed(rules, rf("demo-1.0.tar.gz", size=1024))
    assert not file_allowed(rules, rf("demo-1.0.tar.gz", size=1025))
    assert file_allowed(rules, rf("demo-1.0.tar.gz", size=None))  # unknown: only known sizes


# A whole project


def project(name: str, filenames: list[str], size: int = 100) -> RemoteProject:
    files = [rf(f, size=size) for f in filenames]
    return RemoteProject(
        name=name, serial=7, files=files, versions=sorted({f.version for f in files})
    )


def test_project_is_narrowed_to_its_wanted_files_and_versions():
    remote = project("Demo", ["demo-1.0.tar.gz", "demo-2.0.tar.gz", "demo-3.0a1.tar.gz"])

    applied = remote_project_apply(rules_from_json({"prereleases": False, "latest": 1}), remote)

    assert [f.filename for f in applied.files] == ["demo-2.0.tar.gz"]
    assert (applied.name, applied.serial, applied.versions) == ("Demo", 7, ["2.0"])


def test_project_excluded_by_name_or_total_size_is_none():
    remote = project("Demo", ["demo-1.0.tar.gz", "demo-2.0.tar.gz"], size=600)

    assert remote_project_apply(rules_from_json({"block": ["demo"]}), remote) is None
    assert remote_project_apply(rules_from_json({"max_project_size": 1000}), remote) is None
    assert remote_project_apply(rules_from_json({"max_project_size": 1200}), remote) is not None
    assert remote_project_apply(EVERYTHING, remote) is remote
