import io
import tarfile
import zipfile

import pytest

from apps.catalog.distfiles import InvalidDistribution, inspect_distribution
from tests.support.dists import DistSpec, build_sdist, build_wheel, metadata_text


def test_wheel_gives_name_version_and_its_metadata_bytes(tmp_path):
    spec = DistSpec("Foo.Bar", "1.0", requires=["dep>=1"], requires_python=">=3.8")
    path = build_wheel(spec, tmp_path)
    info = inspect_distribution(path)
    assert (info.name, info.version, info.packagetype) == ("Foo.Bar", "1.0", "bdist_wheel")
    assert info.python_version == "py3"
    assert info.requires_python == ">=3.8"
    assert info.metadata["requires_dist"] == ["dep>=1"]
    with zipfile.ZipFile(path) as archive:
        assert info.core_metadata == archive.read("foo_bar-1.0.dist-info/METADATA")


def test_sdist_reads_pkg_info_and_has_no_core_metadata(tmp_path):
    path = build_sdist(DistSpec("foo", "2.0.post1", summary="Hello"), tmp_path)
    info = inspect_distribution(path)
    assert (info.name, info.version, info.packagetype) == ("foo", "2.0.post1", "sdist")
    assert info.metadata["summary"] == "Hello"
    assert info.core_metadata is None


def test_version_is_kept_as_the_filename_spells_it(tmp_path):
    info = inspect_distribution(build_wheel(DistSpec("foo", "1.0.0"), tmp_path))
    assert info.version == "1.0.0"


def test_corrupt_wheel_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "foo-1.0-py3-none-any.whl"
    path.write_bytes(b"not a zip")
    with pytest.raises(InvalidDistribution, match="corrupt wheel"):
        inspect_distribution(path)


def test_truncated_sdist_is_refused(tmp_path):
    path = build_sdist(DistSpec("foo", "1.0"), tmp_path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(InvalidDistribution, match="corrupt sdist"):
        inspect_distribution(path)


@pytest.mark.parametrize("filename", ["foo.whl", "foo-1.0-py3-none.whl", "foo.tar.gz"])
def test_unparseable_filename_is_refused(tmp_path, filename):
    path = tmp_path / filename
    path.write_bytes(b"")
    with pytest.raises(InvalidDistribution, match="unparseable"):
        inspect_distribution(path)


def test_unknown_file_type_is_refused(tmp_path):
    path = tmp_path / "foo-1.0.exe"
    path.write_bytes(b"MZ")
    with pytest.raises(InvalidDistribution, match="not a wheel"):
        inspect_distribution(path)


def test_wheel_without_metadata_is_refused(tmp_path):
    path = tmp_path / "foo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("foo/__init__.py", "")
    with pytest.raises(InvalidDistribution, match="METADATA"):
        inspect_distribution(path)


def test_metadata_naming_another_project_is_refused(tmp_path):
    path = tmp_path / "foo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("foo-1.0.dist-info/METADATA", metadata_text(DistSpec("bar", "1.0")))
    with pytest.raises(InvalidDistribution, match="metadata names 'bar'"):
        inspect_distribution(path)


def test_metadata_with_another_version_is_refused(tmp_path):
    path = tmp_path / "foo-1.0.tar.gz"
    data = metadata_text(DistSpec("foo", "2.0")).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("foo-1.0/PKG-INFO")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    with pytest.raises(InvalidDistribution, match=r"version '2\.0'"):
        inspect_distribution(path)


@pytest.mark.parametrize("build", [build_wheel, build_sdist])
def test_a_distribution_reads_the_same_from_its_bytes(tmp_path, build):
    path = build(DistSpec("foo", "1.0", summary="Hello"), tmp_path)
    assert inspect_distribution(path.read_bytes(), path.name) == inspect_distribution(path)
