"""Real distributions for tests and benchmarks: installable wheels and sdists built from scratch.

Each project ``NAME`` provides an importable module ``NAME`` (underscored) whose ``VERSION``
is its version; ``requires`` become ``Requires-Dist``. The sdists build with setuptools.
"""

import base64
import hashlib
import io
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name


@dataclass
class DistSpec:
    name: str
    version: str
    requires: list[str] = field(default_factory=list)
    requires_python: str = ""
    summary: str = ""
    # Extra bytes in the module, to make files of a chosen size.
    padding: int = 0

    @property
    def module(self) -> str:
        return canonicalize_name(self.name).replace("-", "_")

    @property
    def escaped(self) -> str:
        return self.module


def metadata_text(spec: DistSpec, metadata_version: str = "2.1") -> str:
    lines = [
        f"Metadata-Version: {metadata_version}",
        f"Name: {spec.name}",
        f"Version: {spec.version}",
        f"Summary: {spec.summary or f'The {spec.name} test project'}",
        "Author: pypimirror tests",
        "License: MIT",
        "Classifier: Programming Language :: Python :: 3",
    ]
    if spec.requires_python:
        lines.append(f"Requires-Python: {spec.requires_python}")
    lines += [f"Requires-Dist: {r}" for r in spec.requires]
    lines += [
        "Description-Content-Type: text/plain",
        "",
        f"{spec.name} {spec.version}.",
        "",
    ]
    return "\n".join(lines)


def module_source(spec: DistSpec) -> str:
    pad = f"\n_PADDING = {'x' * spec.padding!r}\n" if spec.padding else ""
    return f'VERSION = "{spec.version}"\n{pad}'


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _zip_write(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def wheel_filename(spec: DistSpec) -> str:
    return f"{spec.escaped}-{spec.version}-py3-none-any.whl"


def wheel_bytes(spec: DistSpec) -> bytes:
    """The bytes of ``build_wheel``'s wheel, built in memory (fast enough for 20,000 projects).

    Its ``.dist-info/METADATA`` is exactly ``metadata_text(spec).encode()``.
    """
    dist_info = f"{spec.escaped}-{spec.version}.dist-info"
    files = {
        f"{spec.module}/__init__.py": module_source(spec).encode(),
        f"{dist_info}/METADATA": metadata_text(spec).encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: pypimirror-tests\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
        f"{dist_info}/top_level.txt": f"{spec.module}\n".encode(),
    }
    record = [_record_line(path, data) for path, data in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            _zip_write(archive, name, data)
    return buffer.getvalue()


def build_wheel(spec: DistSpec, directory: Path) -> Path:
    """A pure-Python ``py3-none-any`` wheel, byte-for-byte reproducible."""
    path = directory / wheel_filename(spec)
    path.write_bytes(wheel_bytes(spec))
    return path


def sdist_filename(spec: DistSpec) -> str:
    return f"{spec.escaped}-{spec.version}.tar.gz"


def sdist_bytes(spec: DistSpec) -> bytes:
    """The bytes of ``build_sdist``'s sdist, built in memory."""
    top = f"{spec.escaped}-{spec.version}"
    deps = ", ".join(f'"{r}"' for r in spec.requires)
    requires_python = (
        f'requires-python = "{spec.requires_python}"\n' if spec.requires_python else ""
    )
    pyproject = (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{spec.name}"\nversion = "{spec.version}"\n'
        f'description = "{spec.summary or f"The {spec.name} test project"}"\n'
        f"dependencies = [{deps}]\n{requires_python}"
        f'\n[tool.setuptools]\npackages = ["{spec.module}"]\n'
    )
    files = {
        f"{top}/PKG-INFO": metadata_text(spec, "2.1").encode(),
        f"{top}/pyproject.toml": pyproject.encode(),
        f"{top}/{spec.module}/__init__.py": module_source(spec).encode(),
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1704067200
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def build_sdist(spec: DistSpec, directory: Path) -> Path:
    """A PEP 625 sdist (``.tar.gz``) that setuptools builds into a wheel."""
    path = directory / sdist_filename(spec)
    path.write_bytes(sdist_bytes(spec))
    return path


def build_chain(
    directory: Path,
    *,
    length: int = 3,
    prefix: str = "chain",
    sdists: bool = True,
    wheels: bool = True,
    version: str = "1.0",
) -> list[DistSpec]:
    """``length`` projects, each depending on the one before: prefix-0 <- prefix-1 <- ..."""
    specs = []
    for i in range(length):
        requires = [f"{prefix}-{i - 1}>={version}"] if i else []
        spec = DistSpec(name=f"{prefix}-{i}", version=version, requires=requires)
        if wheels:
            build_wheel(spec, directory)
        if sdists:
            build_sdist(spec, directory)
        specs.append(spec)
    return specs


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, as indexes list it."""
    with path.open("rb") as source:
        return hashlib.file_digest(source, "sha256").hexdigest()


def wheel_metadata(path: Path) -> bytes:
    """The bytes of a wheel's ``.dist-info/METADATA``: what PEP 658 serves beside it."""
    with zipfile.ZipFile(path) as archive:
        (name,) = [
            n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
        ]
        return archive.read(name)
