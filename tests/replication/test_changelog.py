"""Reading ``changelog_since_serial``'s answer: what a plan is made from, and what is refused."""

import pytest

from apps.replication.clients.base import UpstreamError
from apps.replication.clients.changelog import changelog_changes


def entry(name: str, serial: int, action: str = "new release") -> list:
    return [name, "1.0", 1_700_000_000, action, serial]


def test_each_project_keeps_its_newest_serial_and_the_newest_serial_is_reached():
    changed, newest = changelog_changes(
        [entry("Foo_Bar", 11), entry("baz", 12), entry("foo-bar", 13, "remove project")], 10
    )

    assert changed == {"foo-bar": ("foo-bar", 13), "baz": ("baz", 12)}
    assert newest == 13


def test_no_entries_keeps_the_serial():
    assert changelog_changes([], 10) == ({}, 10)


def test_entries_not_after_the_serial_asked_are_left_out():
    changed, newest = changelog_changes([entry("old", 9), entry("same", 10), entry("new", 11)], 10)

    assert (changed, newest) == ({"new": ("new", 11)}, 11)


@pytest.mark.parametrize(
    "answer",
    [
        {"not": "a list"},
        [entry("ok", 11), ["short", 12]],
        [[None, "1.0", 0, "new release", 11]],
        [["", "1.0", 0, "new release", 11]],
        [["name", "1.0", 0, "new release", "11"]],
        [["name", "1.0", 0, "new release", True]],
        ["a string"],
    ],
    ids=["mapping", "short entry", "no name", "empty name", "text serial", "bool serial", "text"],
)
def test_a_malformed_answer_plans_nothing(answer):
    with pytest.raises(UpstreamError):
        changelog_changes(answer, 10)
