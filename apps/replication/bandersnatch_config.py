"""Rules from the filter sections of a bandersnatch configuration, so its operators move over with
the config they have. What cannot be said in rules (rules.py) is refused, naming the section or
plugin, never dropped in silence.

Read: ``[plugins] enabled`` (a list, or ``all``); ``[allowlist] packages`` (names, and version
specifiers for ``allowlist_release``); ``[blocklist] packages`` (likewise) and ``platforms``
(``exclude_platform``); ``[filter_regex] packages`` and ``releases``; ``prerelease_release``;
``[latest_release] keep``; ``[size_project_metadata] max_package_size``. The pre-5.0 names
(whitelist, blacklist) are read as their new ones.
"""

import configparser
import re

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .rules import Rules, RulesError, parse_size, rules_from_json

TRANSLATED = (
    "allowlist_project",
    "allowlist_release",
    "blocklist_project",
    "blocklist_release",
    "regex_project",
    "regex_release",
    "prerelease_release",
    "latest_release",
    "exclude_platform",
    "size_project_metadata",
)
# Plugin → the section that gives it work: with ``enabled = all`` such a plugin is refused only
# when its section is there (without it, it filters nothing).
UNTRANSLATED = {
    "regex_project_metadata": "regex_project_metadata",
    "regex_release_file_metadata": "regex_release_file_metadata",
    "version_range_release_file_metadata": "version_range_release_file_metadata",
    "versions_count_project_metadata": "versions_count_project_metadata",
    "project_requirements": "allowlist",
    "project_requirements_pinned": "allowlist",
}
OLD_NAMES = {"whitelist": "allowlist", "blacklist": "blocklist"}

# Platform names bandersnatch knows → (platform tags, packagetypes) excluded.
PLATFORMS = {
    "windows": (["win32", "win_*"], ["bdist_msi", "bdist_wininst"]),
    "macos": (["macosx_*"], ["bdist_dmg"]),
    "freebsd": (["freebsd*"], []),
    "linux": (["linux_*", "manylinux*", "musllinux_*"], ["bdist_rpm"]),
}
PLATFORM_ALIASES = {"win": "windows", "macosx": "macos"}
PYTHON_VERSION = re.compile(r"py(?P<major>[23])(?:\.(?P<minor>\d+))?")
ARCHITECTURE = re.compile(r"(win|linux|manylinux|musllinux|macosx|freebsd)[\w.-]*")


def rules_from_bandersnatch(text: str) -> Rules:
    """The rules that filter as the configuration's filter plugins do; RulesError otherwise."""
    config = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    try:
        config.read_string(text)
    except configparser.Error as exc:
        raise RulesError(f"not a bandersnatch configuration: {exc}") from None
    sections = {OLD_NAMES.get(s, s): config[s] for s in config.sections()}
    listed = [_plugin_name(p) for p in _lines(sections.get("plugins", {}).get("enabled", ""))]
    if not listed:
        raise RulesError("[plugins] enabled: no filter plugin is enabled, so nothing filters")
    if invalid := sorted(set(listed) - {"all"} - set(TRANSLATED) - set(UNTRANSLATED)):
        raise RulesError(f"[plugins] enabled: unknown plugin(s): {', '.join(invalid)}")
    everything = "all" in listed
    for plugin, section in UNTRANSLATED.items():
        if plugin.startswith("project_requirements"):
            has_work = "requirements" in sections.get(section, {})
        else:
            has_work = section in sections
        if plugin in listed or (everything and has_work):
            raise RulesError(f"[plugins] {plugin}: cannot be translated into rules")
    enabled = set(TRANSLATED) if everything else set(listed)

    data: dict = {}
    allow = _requirements(sections, "allowlist")
    block = _requirements(sections, "blocklist")
    if "allowlist_project" in enabled and allow:
        data["allow"] = [name for name, _spec in allow]
    if "allowlist_release" in enabled:
        data["versions"] = _specifiers(allow, "allowlist")
    if "blocklist_project" in enabled:
        data["block"] = [name for name, spec in block if not spec]
    if "blocklist_release" in enabled:
        data["block_versions"] = _specifiers(block, "blocklist")
    regexes = sections.get("filter_regex", {})
    if "regex_project" in enabled:
        data["block_regex"] = [_anchored(p) for p in _lines(regexes.get("packages", ""))]
    if "regex_release" in enabled:
        data["block_version_regex"] = [_anchored(p) for p in _lines(regexes.get("releases", ""))]
    if "prerelease_release" in enabled:
        if "filter_prerelease" in sections:
            raise RulesError(
                "[filter_prerelease]: prereleases off for some projects only cannot be "
                "translated (rules turn them off for every project)"
            )
        data["prereleases"] = False
    if "latest_release" in enabled:
        data.update(_latest(sections.get("latest_release", {})))
    if "exclude_platform" in enabled:
        data.update(_platforms(sections.get("blocklist", {}).get("platforms", "")))
    if "size_project_metadata" in enabled:
        data.update(_size(sections, enabled, allow))
    return rules_from_json({key: value for key, value in data.items() if value != []})


def _plugin_name(name: str) -> str:
    """A plugin's name, the pre-5.0 spellings (whitelist_project, ...) read as today's."""
    for old, new in OLD_NAMES.items():
        name = name.replace(old, new)
    return name


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def _requirements(sections, section: str) -> list[tuple[str, str]]:
    """(normalized name, specifiers or "") of each ``packages`` line of the section."""
    found = []
    for line in _lines(sections.get(section, {}).get("packages", "")):
        line = line.split(" #", 1)[0].strip()
        if line.startswith("#"):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise RulesError(f"[{section}] packages: {line!r}: {exc}") from None
        found.append((canonicalize_name(requirement.name), str(requirement.specifier)))
    return found


def _specifiers(requirements: list[tuple[str, str]], section: str) -> dict[str, str]:
    specifiers: dict[str, str] = {}
    for name, spec in requirements:
        if not spec:
            continue
        if name in specifiers:
            raise RulesError(
                f"[{section}] packages: {name} is listed with specifiers twice; "
                "rules take one set of specifiers per project (join them with commas)"
            )
        specifiers[name] = spec
    return specifiers


def _anchored(pattern: str) -> str:
    """bandersnatch matches at the start of the string; rules search anywhere."""
    return pattern if pattern.startswith("^") else f"^(?:{pattern})"


def _latest(section) -> dict:
    if section.get("sort_by", "version").strip() != "version":
        raise RulesError(
            f"[latest_release] sort_by = {section['sort_by']}: cannot be translated "
            "(rules keep the latest releases by version)"
        )
    keep = section.get("keep", "0").strip()
    if not keep.isdigit():
        raise RulesError(f"[latest_release] keep: {keep!r} is no whole number")
    return {"latest": int(keep)} if int(keep) else {}


def _platforms(value: str) -> dict:
    tags: list[str] = []
    pythons: list[str] = []
    types: list[str] = []
    for name in (v.lower() for v in _lines(value.replace(",", "\n"))):
        name = PLATFORM_ALIASES.get(name, name)
        if name in PLATFORMS:
            tags += PLATFORMS[name][0]
            types += PLATFORMS[name][1]
        elif match := PYTHON_VERSION.fullmatch(name):
            version = match["major"] + (match["minor"] or "")
            interpreters = ("cp", "pp", "ip", "jy", "py") if match["minor"] else ("py",)
            pythons += [f"{i}{version}" for i in interpreters]
        elif ARCHITECTURE.fullmatch(name):
            tags.append(re.sub(r"[-.]", "_", name.strip("-.")))
        else:
            raise RulesError(f"[blocklist] platforms: unknown platform {name!r}")
    return {
        "exclude_platform_tags": list(dict.fromkeys(tags)),
        "exclude_python_tags": list(dict.fromkeys(pythons)),
        "exclude_packagetypes": list(dict.fromkeys(types)),
    }


def _size(sections, enabled: set[str], allow: list) -> dict:
    value = sections.get("size_project_metadata", {}).get("max_package_size", "").strip()
    if not value:
        return {}
    if allow and "allowlist_project" not in enabled:
        raise RulesError(
            "[size_project_metadata] with [allowlist] packages as exceptions to the size limit: "
            "cannot be translated (rules apply the size limit to every project)"
        )
    try:
        return {"max_project_size": parse_size(value, key="max_package_size")}
    except RulesError as exc:
        raise RulesError(f"[size_project_metadata] {exc}") from None
