"""The comparison of a mirror's pages with the hub's catalog: lag in hub serials, findings."""

from datetime import UTC, datetime, timedelta

from apps.network.probe_checks import (
    Expectation,
    ExpectedFile,
    ExpectedProject,
    file_finding,
    page_findings,
    serial_lag,
)
from apps.network.probe_parsing import ListedFile, ProjectPage

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def expected(project: str, filename: str, serial: int, sha: str = "a") -> ExpectedFile:
    return ExpectedFile(
        project=project,
        filename=filename,
        sha256=sha * 64,
        size=10,
        serial=serial,
        added=T0 + timedelta(minutes=serial),
    )


ALPHA = ExpectedProject(
    name="alpha",
    last_serial=12,
    files=(expected("alpha", "alpha-1.0.tar.gz", 3), expected("alpha", "alpha-2.0.tar.gz", 12)),
)
BETA = ExpectedProject(name="beta", last_serial=9, files=(expected("beta", "beta-1.0.tar.gz", 9),))
HUB = Expectation(last_serial=15, projects=(ALPHA, BETA))


def page(*filenames: str, sha: str = "a", complete: bool = True) -> ProjectPage:
    return ProjectPage(
        files={f: ListedFile(url=f"http://m/{f}", sha256=sha * 64) for f in filenames},
        complete=complete,
    )


def test_a_mirror_with_every_sampled_file_is_current():
    pages = {"alpha": page("alpha-1.0.tar.gz", "alpha-2.0.tar.gz"), "beta": page("beta-1.0.tar.gz")}

    lag = serial_lag(HUB, pages)

    assert (lag.serials, lag.since) == (0, None)


def test_lag_counts_from_the_first_hub_serial_the_mirror_lacks():
    pages = {"alpha": page("alpha-1.0.tar.gz"), "beta": None}  # beta: 404

    lag = serial_lag(HUB, pages)

    assert lag.serials == 15 - 9 + 1
    assert lag.since == T0 + timedelta(minutes=9)


def test_ahead_is_not_lag():
    """Files the hub does not have (newer, or removed on the hub) are not lag."""
    pages = {
        "alpha": page("alpha-1.0.tar.gz", "alpha-2.0.tar.gz", "alpha-3.0.tar.gz"),
        "beta": page("beta-1.0.tar.gz", "beta-0.9.tar.gz"),
    }
    assert serial_lag(HUB, pages).serials == 0


def test_no_page_read_is_no_lag_known():
    assert serial_lag(HUB, {}).serials is None
    assert serial_lag(Expectation(last_serial=0), {}).serials is None


def test_a_blank_page_for_a_project_with_files_is_a_finding_naming_it():
    findings = page_findings(HUB, {"alpha": page(), "beta": page("beta-1.0.tar.gz")})

    assert findings == ["blank project page: alpha lists no file (the hub has 2)"]


def test_a_page_cut_short_or_with_another_sha256_is_a_finding():
    pages = {
        "alpha": page("alpha-1.0.tar.gz", complete=False),
        "beta": page("beta-1.0.tar.gz", sha="b"),
    }
    findings = page_findings(HUB, pages)

    assert findings[0] == "project page cut short: alpha"
    assert findings[1].startswith("beta-1.0.tar.gz: the page of beta gives sha256 bbbb")


def test_file_findings_name_the_file():
    file = expected("alpha", "alpha-1.0.tar.gz", 3)
    assert file_finding(file, size=10, sha256="a" * 64) is None
    assert file_finding(file, size=11, sha256="a" * 64) == (
        "alpha-1.0.tar.gz: 11 bytes served, 10 expected"
    )
    assert "alpha-1.0.tar.gz: sha256 cccc" in file_finding(file, size=10, sha256="c" * 64)
