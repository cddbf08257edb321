import shutil

import pytest

from apps.catalog.importing import Outcome, distribution_import, find_distributions
from apps.catalog.models import Distribution, JournalEntry, Project
from tests.support.dists import DistSpec, build_sdist, build_wheel

pytestmark = pytest.mark.django_db


def test_import_publishes_a_wheel_with_its_journal(tmp_path, blob_store):
    path = build_wheel(DistSpec("Foo", "1.0", requires_python=">=3.8"), tmp_path)
    result = distribution_import(path)
    assert result.outcome is Outcome.ADDED
    dist = Distribution.objects.get()
    assert (dist.project.name, dist.project.normalized_name) == ("Foo", "foo")
    assert dist.release.version == "1.0"
    assert dist.requires_python == ">=3.8"
    assert dist.core_metadata_sha256 is not None
    assert (blob_store / dist.blob_path).read_bytes() == path.read_bytes()
    assert (blob_store / dist.metadata_blob_path).exists()
    actions = list(JournalEntry.objects.values_list("action", flat=True))
    assert actions == ["create", "new release", "add py3 file foo-1.0-py3-none-any.whl"]
    assert dist.project.last_serial == JournalEntry.objects.latest("id").id


def test_same_file_twice_is_reported_present_and_writes_nothing(tmp_path):
    path = build_sdist(DistSpec("foo", "1.0"), tmp_path)
    distribution_import(path)
    serial = JournalEntry.objects.latest("id").id
    assert distribution_import(path).outcome is Outcome.PRESENT
    assert JournalEntry.objects.latest("id").id == serial


def test_same_filename_with_other_bytes_is_an_error_and_stores_nothing(tmp_path, blob_store):
    distribution_import(build_sdist(DistSpec("foo", "1.0"), tmp_path))
    other = tmp_path / "other"
    other.mkdir()
    path = build_sdist(DistSpec("foo", "1.0", padding=10), other)
    blobs = sorted(blob_store.rglob("*"))
    result = distribution_import(path)
    assert result.outcome is Outcome.FAILED
    assert "different bytes" in result.detail
    assert sorted(blob_store.rglob("*")) == blobs


def test_corrupt_file_fails_alone_and_leaves_nothing(tmp_path, blob_store):
    bad = tmp_path / "bad-1.0-py3-none-any.whl"
    bad.write_bytes(b"garbage")
    good = build_wheel(DistSpec("good", "1.0"), tmp_path)
    outcomes = {p.name: distribution_import(p).outcome for p in find_distributions([tmp_path])}
    assert outcomes == {bad.name: Outcome.FAILED, good.name: Outcome.ADDED}
    assert list(Project.objects.values_list("normalized_name", flat=True)) == ["good"]
    assert not any(p.name.startswith("bad") for p in blob_store.rglob("*"))


def test_find_distributions_walks_folders_and_keeps_named_files(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    wheel = build_wheel(DistSpec("x", "1.0"), tmp_path / "a" / "b")
    (tmp_path / "a" / "notes.txt").write_text("skip me")
    sdist = build_sdist(DistSpec("y", "1.0"), tmp_path)
    named = tmp_path / "elsewhere.txt"
    shutil.copy(sdist, named)
    assert list(find_distributions([tmp_path / "a", named])) == [wheel, named]
