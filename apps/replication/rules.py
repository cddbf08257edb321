"""Partial mirrors: the rules of one upstream (``Upstream.rules``), parsed, and what they let in.

Rules are JSON; every key is optional and an empty object mirrors everything::

    {"allow": ["requests", "idna"], "allow_regex": ["^django-"],
     "block": ["evil"], "block_regex": ["-evil$"],
     "versions": {"requests": ">=2.30"}, "block_versions": {"idna": "==3.5"},
     "block_version_regex": ["\\.dev"], "prereleases": false, "latest": 3,
     "exclude_platform_tags": ["win32", "win_*"], "exclude_python_tags": ["cp27", "py2"],
     "exclude_packagetypes": ["bdist_egg"], "max_file_size": "100M", "max_project_size": "1G"}

Names are compared normalized (PEP 503); regexes search the normalized name (or the version),
anchored only where they say so. A wheel is excluded by tag when every one of its tags matches
(``win_*`` excludes a Windows wheel, never a ``py3-none-any`` one). ``latest`` keeps the newest
N releases (PEP 440 order) among those the other rules leave a file in.
"""

import fnmatch
import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from .clients.base import RemoteFile, RemoteProject


class RulesError(ValueError):
    """Rules that cannot be used: the message names the bad key or value."""


@dataclass(frozen=True)
class Rules:
    allow: frozenset[str] = frozenset()
    allow_regex: tuple[re.Pattern, ...] = ()
    block: frozenset[str] = frozenset()
    block_regex: tuple[re.Pattern, ...] = ()
    versions: dict[str, SpecifierSet] = field(default_factory=dict)
    block_versions: dict[str, SpecifierSet] = field(default_factory=dict)
    block_version_regex: tuple[re.Pattern, ...] = ()
    prereleases: bool = True
    latest: int | None = None
    exclude_platform_tags: tuple[str, ...] = ()
    exclude_python_tags: tuple[str, ...] = ()
    exclude_packagetypes: frozenset[str] = frozenset()
    max_file_size: int | None = None
    max_project_size: int | None = None

    @cached_property  # asked once per project synced
    def is_empty(self) -> bool:
        return self == EVERYTHING

    def to_json(self) -> dict[str, Any]:
        """The rules as stored: only what differs from mirroring everything, sorted."""
        data: dict[str, Any] = {
            "allow": sorted(self.allow),
            "allow_regex": [p.pattern for p in self.allow_regex],
            "block": sorted(self.block),
            "block_regex": [p.pattern for p in self.block_regex],
            "versions": {n: str(s) for n, s in sorted(self.versions.items())},
            "block_versions": {n: str(s) for n, s in sorted(self.block_versions.items())},
            "block_version_regex": [p.pattern for p in self.block_version_regex],
            "prereleases": self.prereleases,
            "latest": self.latest,
            "exclude_platform_tags": list(self.exclude_platform_tags),
            "exclude_python_tags": list(self.exclude_python_tags),
            "exclude_packagetypes": sorted(self.exclude_packagetypes),
            "max_file_size": self.max_file_size,
            "max_project_size": self.max_project_size,
        }
        defaults = _DEFAULTS
        return {key: value for key, value in data.items() if value != defaults[key]}


EVERYTHING = Rules()
_DEFAULTS: dict[str, Any] = {
    "allow": [],
    "allow_regex": [],
    "block": [],
    "block_regex": [],
    "versions": {},
    "block_versions": {},
    "block_version_regex": [],
    "prereleases": True,
    "latest": None,
    "exclude_platform_tags": [],
    "exclude_python_tags": [],
    "exclude_packagetypes": [],
    "max_file_size": None,
    "max_project_size": None,
}
KEYS = tuple(_DEFAULTS)


def rules_from_json(data: Any) -> Rules:
    """Parse and check stored rules; RulesError names the first bad key or value."""
    if data is None:
        return EVERYTHING
    if not isinstance(data, dict):
        raise RulesError(f"rules must be a JSON object, not {type(data).__name__}")
    if unknown := sorted(set(data) - set(KEYS)):
        raise RulesError(f"unknown key(s): {', '.join(unknown)} (known: {', '.join(KEYS)})")
    return Rules(
        allow=frozenset(_names(data, "allow")),
        allow_regex=_regexes(data, "allow_regex"),
        block=frozenset(_names(data, "block")),
        block_regex=_regexes(data, "block_regex"),
        versions=_specifiers(data, "versions"),
        block_versions=_specifiers(data, "block_versions"),
        block_version_regex=_regexes(data, "block_version_regex"),
        prereleases=_bool(data, "prereleases"),
        latest=_count(data, "latest"),
        exclude_platform_tags=tuple(_tags(data, "exclude_platform_tags")),
        exclude_python_tags=tuple(_tags(data, "exclude_python_tags")),
        exclude_packagetypes=frozenset(_strings(data, "exclude_packagetypes")),
        max_file_size=_size(data, "max_file_size"),
        max_project_size=_size(data, "max_project_size"),
    )


def rules_fingerprint(rules: Rules) -> str:
    """What identifies the rules in effect, to tell when they changed: "" for none (so the
    upstreams that had no rules before rules existed count as unchanged)."""
    if rules.is_empty:
        return ""
    canonical = json.dumps(rules.to_json(), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _strings(data: dict, key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RulesError(f"{key}: must be a list of non-empty strings, not {value!r}")
    return [v.strip() for v in value]


def _names(data: dict, key: str) -> list[str]:
    return [canonicalize_name(name) for name in _strings(data, key)]


def _tags(data: dict, key: str) -> list[str]:
    return list(dict.fromkeys(tag.lower() for tag in _strings(data, key)))


def _regexes(data: dict, key: str) -> tuple[re.Pattern, ...]:
    compiled = []
    for pattern in _strings(data, key):
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise RulesError(f"{key}: {pattern!r} is no regular expression ({exc})") from None
    return tuple(compiled)


def _specifiers(data: dict, key: str) -> dict[str, SpecifierSet]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise RulesError(f"{key}: must be an object of project name → version specifiers")
    parsed = {}
    for name, spec in value.items():
        if not isinstance(spec, str) or not spec.strip():
            raise RulesError(f"{key}: {name!r}: specifiers must be a non-empty string")
        try:
            parsed[canonicalize_name(name)] = SpecifierSet(spec)
        except InvalidSpecifier:
            raise RulesError(f"{key}: {name!r}: {spec!r} is no version specifier") from None
    return parsed


def _bool(data: dict, key: str) -> bool:
    value = data.get(key, _DEFAULTS[key])
    if not isinstance(value, bool):
        raise RulesError(f"{key}: must be true or false, not {value!r}")
    return value


def _count(data: dict, key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RulesError(f"{key}: must be a whole number of at least 1 (or null), not {value!r}")
    return value


_SIZE = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[KMGT]?)(?:I?B)?", re.IGNORECASE)
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_size(value: Any, *, key: str) -> int:
    """Bytes from a number or from a size such as ``"100M"`` or ``"1.5 GiB"`` (1K = 1024)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and (match := _SIZE.fullmatch(value.strip())):
        size = int(float(match["number"]) * _UNITS[match["unit"].upper()])
        if size > 0:
            return size
    raise RulesError(f"{key}: {value!r} is no size (bytes, or a number with K, M, G or T)")


def _size(data: dict, key: str) -> int | None:
    value = data.get(key)
    return None if value is None else parse_size(value, key=key)


# What the rules let in.


def project_allowed(rules: Rules, name: str) -> bool:
    """Whether the rules let the project in at all, by its name."""
    normalized = canonicalize_name(name)
    listed = normalized in rules.allow or any(p.search(normalized) for p in rules.allow_regex)
    if (rules.allow or rules.allow_regex) and not listed:
        return False
    if normalized in rules.block:
        return False
    return not any(p.search(normalized) for p in rules.block_regex)


def _version(text: str | None) -> Version | None:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None


def version_allowed(rules: Rules, name: str, version: str | None) -> bool:
    """Whether the rules keep this release of the project (``latest`` aside)."""
    normalized = canonicalize_name(name)
    parsed = _version(version)
    only = rules.versions.get(normalized)
    if only is not None and (parsed is None or not only.contains(parsed, prereleases=True)):
        return False
    never = rules.block_versions.get(normalized)
    if never is not None and parsed is not None and never.contains(parsed, prereleases=True):
        return False
    if version and any(p.search(version) for p in rules.block_version_regex):
        return False
    return rules.prereleases or parsed is None or not parsed.is_prerelease


_WININST_PLATFORM = re.compile(r"\.(win32|win-amd64|win-arm64)(?:-py[\d.]+)?\.(?:exe|msi)$")


def file_tags(remote_file: RemoteFile) -> tuple[set[str], set[str]]:
    """(platform tags, Python tags) of a file: a wheel's from its name; an egg's or a Windows
    installer's from its name and its Python version; none for an sdist."""
    filename = remote_file.filename
    try:
        _name, _version, _build, tags = parse_wheel_filename(filename)
        return {t.platform for t in tags}, {t.interpreter for t in tags}
    except InvalidWheelFilename:
        pass
    platforms: set[str] = set()
    if filename.endswith(".egg"):
        parts = filename.removesuffix(".egg").split("-", 3)
        if len(parts) == 4:
            platforms.add(re.sub(r"[-.]", "_", parts[3]).lower())
    elif match := _WININST_PLATFORM.search(filename):
        platforms.add(match[1].replace("-", "_"))
    python = remote_file.python_version or ""
    pythons = {"py" + python.replace(".", "")} if re.fullmatch(r"\d+(\.\d+)?", python) else set()
    return platforms, pythons


def _all_match(tags: set[str], patterns: tuple[str, ...]) -> bool:
    return bool(tags and patterns) and all(
        any(fnmatch.fnmatchcase(tag.lower(), p) for p in patterns) for tag in tags
    )


def file_allowed(rules: Rules, remote_file: RemoteFile) -> bool:
    """Whether the rules keep this file, by its own facts (type, tags, size)."""
    if remote_file.packagetype in rules.exclude_packagetypes:
        return False
    if rules.max_file_size is not None and (remote_file.size or 0) > rules.max_file_size:
        return False
    if rules.exclude_platform_tags or rules.exclude_python_tags:
        platforms, pythons = file_tags(remote_file)
        if _all_match(platforms, rules.exclude_platform_tags):
            return False
        if _all_match(pythons, rules.exclude_python_tags):
            return False
    return True


def files_wanted(rules: Rules, name: str, files: list[RemoteFile]) -> list[RemoteFile]:
    """Those of a project's files the rules keep, in their order."""
    kept = [f for f in files if version_allowed(rules, name, f.version) and file_allowed(rules, f)]
    if rules.latest is not None:
        versions = {f.version for f in kept}
        newest = sorted(
            versions, key=lambda v: (_version(v) is not None, _version(v) or v or ""), reverse=True
        )[: rules.latest]
        kept = [f for f in kept if f.version in newest]
    return kept


def remote_project_apply(rules: Rules, remote: RemoteProject) -> RemoteProject | None:
    """The project as the rules let it in: its wanted files only, or None when they exclude it
    whole (by name, or by its size upstream), so it is removed here as if gone upstream."""
    if rules.is_empty:
        return remote
    if not project_allowed(rules, remote.name):
        return None
    size = rules.max_project_size
    if size is not None and sum(f.size or 0 for f in remote.files) > size:
        return None
    files = files_wanted(rules, remote.name, remote.files)
    kept = {f.version for f in files}
    versions = [v for v in remote.versions if v in kept]
    return replace(remote, files=files, versions=versions)
