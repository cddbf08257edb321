"""Reading a distribution file: its name, version and type from the filename (``packaging``), its
core metadata from the file itself."""

import io
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.metadata import parse_email
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)

# The largest METADATA / PKG-INFO we read; real ones are a few hundred KiB at most.
MAX_METADATA_SIZE = 10 * 1024 * 1024

# Core metadata fields carried into the JSON API's ``info``, by packaging's raw key.
INFO_FIELDS = (
    "author",
    "author_email",
    "classifiers",
    "description",
    "description_content_type",
    "download_url",
    "home_page",
    "keywords",
    "license",
    "license_expression",
    "maintainer",
    "maintainer_email",
    "platforms",
    "project_urls",
    "provides_extra",
    "requires_dist",
    "requires_python",
    "summary",
)


class InvalidDistribution(Exception):
    """The file is not a distribution we can read; the message says why."""


@dataclass
class DistributionInfo:
    name: str
    version: str
    packagetype: str
    python_version: str
    requires_python: str = ""
    metadata: dict = field(default_factory=dict)
    # The wheel's .dist-info/METADATA bytes, served for PEP 658; None for sdists.
    core_metadata: bytes | None = None


def parse_metadata(data: bytes) -> dict:
    """The fields of INFO_FIELDS plus name and version, from METADATA / PKG-INFO bytes."""
    raw, _unparsed = parse_email(data)
    info = {key: raw[key] for key in ("name", "version", *INFO_FIELDS) if key in raw}
    if "keywords" in info:  # the JSON API has a string here, as the field was written
        info["keywords"] = ",".join(info["keywords"])
    return info


def _read_wheel(path: Path | io.BytesIO, filename: str) -> DistributionInfo:
    try:
        name, version, _build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        raise InvalidDistribution(f"unparseable wheel filename: {exc}") from None
    python_version = ".".join(sorted({tag.interpreter for tag in tags}))
    try:
        with zipfile.ZipFile(path) as archive:
            candidates = [
                info
                for info in archive.infolist()
                if info.filename.count("/") == 1
                and info.filename.endswith(".dist-info/METADATA")
                and canonicalize_name(
                    info.filename.split("/")[0][: -len(".dist-info")].rsplit("-", 1)[0]
                )
                == name
            ]
            if len(candidates) != 1:
                raise InvalidDistribution("no single .dist-info/METADATA in the wheel")
            if candidates[0].file_size > MAX_METADATA_SIZE:
                raise InvalidDistribution("METADATA is implausibly large")
            core_metadata = archive.read(candidates[0])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise InvalidDistribution(f"corrupt wheel: {exc}") from None
    metadata = _checked_metadata(core_metadata, name, str(version), filename)
    return DistributionInfo(
        name=metadata.get("name", str(name)),
        version=_filename_version(filename, 1),
        packagetype="bdist_wheel",
        python_version=python_version,
        requires_python=metadata.get("requires_python", ""),
        metadata=metadata,
        core_metadata=core_metadata,
    )


def _read_sdist(path: Path | io.BytesIO, filename: str) -> DistributionInfo:
    try:
        name, version = parse_sdist_filename(filename)
    except InvalidSdistFilename as exc:
        raise InvalidDistribution(f"unparseable sdist filename: {exc}") from None
    try:
        if filename.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                members = [
                    n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/PKG-INFO")
                ]
                if len(members) != 1:
                    raise InvalidDistribution("no PKG-INFO at the top of the sdist")
                pkg_info = archive.read(members[0])
        else:
            with _open_tar(path) as archive:
                member = next(
                    (m for m in archive if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")),
                    None,
                )
                if member is None or not member.isfile():
                    raise InvalidDistribution("no PKG-INFO at the top of the sdist")
                if member.size > MAX_METADATA_SIZE:
                    raise InvalidDistribution("PKG-INFO is implausibly large")
                pkg_info = archive.extractfile(member).read()
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InvalidDistribution(f"corrupt sdist: {exc}") from None
    metadata = _checked_metadata(pkg_info, name, str(version), filename)
    return DistributionInfo(
        name=metadata.get("name", str(name)),
        version=_filename_version(filename, 0),
        packagetype="sdist",
        python_version="source",
        requires_python=metadata.get("requires_python", ""),
        metadata=metadata,
    )


def _filename_version(filename: str, wheel: int) -> str:
    """The version as the filename spells it (kept verbatim, e.g. ``1.0`` not ``1``)."""
    if wheel:
        return filename.split("-")[1]
    stem = filename.removesuffix(".tar.gz").removesuffix(".zip")
    return stem.rsplit("-", 1)[1]


def _checked_metadata(data: bytes, name: str, version: str, filename: str) -> dict:
    try:
        metadata = parse_metadata(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidDistribution(f"unreadable metadata: {exc}") from None
    if "name" in metadata and canonicalize_name(metadata["name"]) != name:
        raise InvalidDistribution(
            f"metadata names {metadata['name']!r}, the filename {filename!r} does not"
        )
    if "version" in metadata and canonicalize_version(metadata["version"]) != canonicalize_version(
        version
    ):
        raise InvalidDistribution(
            f"metadata has version {metadata['version']!r}, the filename {filename!r} does not"
        )
    return metadata


def _open_tar(source: Path | io.BytesIO) -> tarfile.TarFile:
    if isinstance(source, io.BytesIO):
        return tarfile.open(fileobj=source, mode="r:gz")
    return tarfile.open(source, mode="r:gz")


def inspect_distribution(source: Path | bytes, filename: str | None = None) -> DistributionInfo:
    """Read a wheel or sdist, from its file or its bytes; raises InvalidDistribution with the
    reason when it cannot."""
    if isinstance(source, bytes):
        if filename is None:
            raise TypeError("the filename of a distribution given as bytes is needed")
        path = io.BytesIO(source)
    else:
        path, filename = source, filename or source.name
    if filename.endswith(".whl"):
        return _read_wheel(path, filename)
    if filename.endswith((".tar.gz", ".zip")):
        return _read_sdist(path, filename)
    raise InvalidDistribution("not a wheel (.whl) or sdist (.tar.gz, .zip)")
