"""What a probe compares a mirror with, and the comparison: plain data and functions, no I/O.

The hub's catalog is the truth: a sample of its most recently changed projects, with each file's
sha256 and size and the hub serial (and time) that added it (``Expectation``, built by
selectors.probe_expectation). A probe reads the mirror's pages for those projects
(``Observation``, probing.py) and this module says how far behind the mirror is and what it
serves wrong.

Serials across tiers: a pypimirror node numbers its own serials, so a mirror's
``X-PyPI-Last-Serial``, ``<!--SERIAL n-->`` or root ``meta._last-serial`` is in the serial space
of whatever it follows, not necessarily this hub's (and bandersnatch's root serial is one run
behind). They are recorded as the mirror says them, but the lag is measured like with like, in
the hub's own serials: a sampled project whose page lacks files the hub has is behind from the
first hub serial that added one of them. That holds for every tier and every implementation (a
mirror of a mirror is compared with the origin's state carried down the tree), and a mirror
ahead of the hub, or holding files the hub removed, is not behind: ahead is not lag.
"""

from dataclasses import dataclass, field
from datetime import datetime

from .probe_parsing import ProjectPage, well_formed_sha256


@dataclass(frozen=True)
class ExpectedFile:
    project: str  # normalized name
    filename: str
    sha256: str
    size: int
    serial: int  # the hub serial that added it
    added: datetime  # when the hub added it


@dataclass(frozen=True)
class ExpectedProject:
    name: str  # normalized name
    last_serial: int
    files: tuple[ExpectedFile, ...]


@dataclass(frozen=True)
class Expectation:
    """What the hub holds that a probe looks for on every mirror."""

    last_serial: int  # the hub's newest serial
    projects: tuple[ExpectedProject, ...] = ()
    files: tuple[ExpectedFile, ...] = ()  # the integrity sample: fetched and hashed


@dataclass
class Observation:
    """What one probe of one mirror URL saw (probing.py fills it)."""

    url: str
    reachable: bool = False
    http_status: int | None = None
    duration: float | None = None
    last_modified: datetime | None = None
    mirror_serial: int | None = None
    # Each sampled project's page; None when the mirror answered 404 for it.
    pages: dict[str, ProjectPage | None] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)  # integrity: what it serves wrong
    errors: list[str] = field(default_factory=list)  # what kept the probe from its answer
    files_checked: int = 0

    @property
    def error(self) -> str:
        return "; ".join(self.errors)


@dataclass(frozen=True)
class Lag:
    serials: int | None  # None: nothing to compare (no sample, or no page read)
    since: datetime | None  # when the first change the mirror lacks was made on the hub


def serial_lag(expectation: Expectation, pages: dict[str, ProjectPage | None]) -> Lag:
    """How far behind the hub the mirror's pages of the sampled projects are, in hub serials:
    from the first hub serial that added a file a page lacks up to the hub's newest serial.
    A project missing altogether (404) lacks all its files."""
    compared = False
    first: ExpectedFile | None = None
    for project in expectation.projects:
        if project.name not in pages:
            continue  # not read (an error is recorded for it)
        compared = True
        page = pages[project.name]
        listed = page.files if page is not None else {}
        for expected in project.files:
            if expected.filename not in listed and (
                first is None or expected.serial < first.serial
            ):
                first = expected
    if not compared:
        return Lag(serials=None, since=None)
    if first is None:
        return Lag(serials=0, since=None)
    return Lag(serials=max(expectation.last_serial - first.serial + 1, 1), since=first.added)


def page_findings(expectation: Expectation, pages: dict[str, ProjectPage | None]) -> list[str]:
    """What the sampled pages get wrong: a blank page (no files) or one cut short, for a project
    the hub has files of; a sha256 on the page that is not the hub's for that file."""
    findings = []
    for project in expectation.projects:
        page = pages.get(project.name)
        if page is None or not project.files:
            continue
        if not page.files:
            findings.append(
                f"blank project page: {project.name} lists no file (the hub has "
                f"{len(project.files)})"
            )
            continue
        if not page.complete:
            findings.append(f"project page cut short: {project.name}")
        for expected in project.files:
            listed = page.files.get(expected.filename)
            if listed is None or listed.sha256 is None:
                continue
            if listed.sha256.lower() != expected.sha256:
                shown = listed.sha256[:16] if well_formed_sha256(listed.sha256.lower()) else "?"
                findings.append(
                    f"{expected.filename}: the page of {project.name} gives sha256 {shown}…, "
                    f"not {expected.sha256[:16]}…"
                )
    return findings


def file_finding(expected: ExpectedFile, *, size: int, sha256: str) -> str | None:
    """The finding for one file fetched from the mirror, None when it is the hub's."""
    if size != expected.size:
        return f"{expected.filename}: {size} bytes served, {expected.size} expected"
    if sha256 != expected.sha256:
        return (
            f"{expected.filename}: sha256 {sha256[:16]}… served, {expected.sha256[:16]}… expected"
        )
    return None
