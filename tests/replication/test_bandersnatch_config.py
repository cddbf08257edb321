"""Rules from a bandersnatch configuration's filter sections; what cannot be translated is refused
by name."""

import pytest

from apps.replication.bandersnatch_config import rules_from_bandersnatch
from apps.replication.rules import RulesError

MIRROR = """\
[mirror]
directory = /srv/pypi
master = https://pypi.org
workers = 3
hash-index = false
stop-on-error = false
"""

FULL = (
    MIRROR
    + """
[plugins]
enabled =
    allowlist_project
    allowlist_release
    blocklist_project
    blocklist_release
    regex_project
    regex_release
    prerelease_release
    latest_release
    exclude_platform
    size_project_metadata

[allowlist]
packages =
    black==18.5
    Requests>=2,<3
    ptr
    numpy

[blocklist]
packages =
    example1
    example2>=1.4.2,<1.9,!=1.5.*
platforms =
    windows
    macos
    py2.7
    py3
    manylinux1_x86_64

[filter_regex]
packages =
    .+-evil$
releases =
    .+alpha\\d$

[latest_release]
keep = 3

[size_project_metadata]
max_package_size = 1G
"""
)


def test_every_filter_section_bandersnatch_names_is_translated():
    rules = rules_from_bandersnatch(FULL)

    assert rules.to_json() == {
        "allow": ["black", "numpy", "ptr", "requests"],
        "versions": {"black": "==18.5", "requests": "<3,>=2"},
        "block": ["example1"],
        "block_versions": {"example2": "!=1.5.*,<1.9,>=1.4.2"},
        "block_regex": ["^(?:.+-evil$)"],
        "block_version_regex": ["^(?:.+alpha\\d$)"],
        "prereleases": False,
        "latest": 3,
        "exclude_platform_tags": ["win32", "win_*", "macosx_*", "manylinux1_x86_64"],
        "exclude_python_tags": ["cp27", "pp27", "ip27", "jy27", "py27", "py3"],
        "exclude_packagetypes": ["bdist_dmg", "bdist_msi", "bdist_wininst"],
        "max_project_size": 2**30,
    }


def test_sections_of_plugins_not_enabled_do_nothing():
    config = FULL.replace("    allowlist_release\n", "").replace("    latest_release\n", "")

    rules = rules_from_bandersnatch(config).to_json()

    assert "versions" not in rules and "latest" not in rules
    assert rules["allow"] == ["black", "numpy", "ptr", "requests"]


def test_enabled_all_takes_every_section_there():
    config = MIRROR + "[plugins]\nenabled = all\n[blocklist]\npackages = evil\n"

    assert rules_from_bandersnatch(config).to_json() == {"block": ["evil"], "prereleases": False}


def test_pre_5_names_are_read_as_their_new_ones():
    config = MIRROR + "[plugins]\nenabled = whitelist_project\n[whitelist]\npackages = Foo\n"

    assert rules_from_bandersnatch(config).to_json() == {"allow": ["foo"]}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("[mirror\n", "not a bandersnatch configuration"),
        (MIRROR, "[plugins] enabled: no filter plugin is enabled"),
        ("[plugins]\nenabled = fancy_filter\n", "unknown plugin(s): fancy_filter"),
        (
            "[plugins]\nenabled = regex_release_file_metadata\n",
            "[plugins] regex_release_file_metadata: cannot be translated",
        ),
        (
            "[plugins]\nenabled = all\n[versions_count_project_metadata]\nmax_versions = 5\n",
            "[plugins] versions_count_project_metadata: cannot be translated",
        ),
        (
            "[plugins]\nenabled = all\n[allowlist]\nrequirements = requirements.txt\n",
            "[plugins] project_requirements: cannot be translated",
        ),
        (
            "[plugins]\nenabled = prerelease_release\n[filter_prerelease]\npackages = duckdb\n",
            "[filter_prerelease]: prereleases off for some projects only",
        ),
        (
            "[plugins]\nenabled = latest_release\n[latest_release]\nkeep = 2\nsort_by = time\n",
            "[latest_release] sort_by = time: cannot be translated",
        ),
        (
            "[plugins]\nenabled = exclude_platform\n[blocklist]\nplatforms = amiga\n",
            "[blocklist] platforms: unknown platform 'amiga'",
        ),
        (
            "[plugins]\nenabled = size_project_metadata\n[allowlist]\npackages = numpy\n"
            "[size_project_metadata]\nmax_package_size = 1G\n",
            "[size_project_metadata] with [allowlist] packages as exceptions",
        ),
        (
            "[plugins]\nenabled = size_project_metadata\n"
            "[size_project_metadata]\nmax_package_size = huge\n",
            "[size_project_metadata] max_package_size: 'huge' is no size",
        ),
        (
            "[plugins]\nenabled = allowlist_project\n[allowlist]\npackages = not a name!\n",
            "[allowlist] packages: 'not a name!'",
        ),
    ],
)
def test_what_cannot_be_translated_is_refused_by_name(config, message):
    with pytest.raises(RulesError) as error:
        rules_from_bandersnatch(config)

    assert message in str(error.value)
