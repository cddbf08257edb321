from django.core.management.base import BaseCommand, CommandError

from apps.network.health import Availability
from apps.network.models import Probe
from apps.network.probe_runs import ProbeOutcome, mirrors_probe, probe_problem
from apps.network.selectors import mirror_names_unknown

HEADER = ("URL", "STATE", "LAG S", "LAG SERIALS", "INTEGRITY", "DURATION")


def _state(outcome: ProbeOutcome) -> str:
    probe = outcome.probe
    state = "ok" if outcome.good else ("down" if not probe.reachable else "failing")
    if outcome.decision is Availability.DISABLE:
        state += " (disabled)"
    elif outcome.decision is Availability.ENABLE:
        state += " (enabled)"
    return state


def _integrity(probe: Probe) -> str:
    if probe.integrity_ok is None:
        return "-"
    return "sound" if probe.integrity_ok else f"{len(probe.integrity_findings)} finding(s)"


def _number(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _row(outcome: ProbeOutcome) -> tuple[str, ...]:
    probe = outcome.probe
    return (
        outcome.url.url,
        _state(outcome),
        _number(probe.lag_seconds, ".0f"),
        _number(probe.lag_serials, "d"),
        _integrity(probe),
        "-" if probe.duration is None else f"{probe.duration:.2f}s",
    )


class Command(BaseCommand):
    help = (
        "Probe mirrors of the network now (the named ones, or every one the hourly round "
        "probes), keep the probes, apply the disable / enable rule, and print a table: URL, "
        "state, lag in seconds and serials, integrity, duration; each problem below it. Exit 1 "
        "when any probed mirror is unhealthy, 2 for an unknown name."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME", help="Mirrors to probe.")

    def handle(self, *args, names: list[str], **options) -> None:
        if unknown := mirror_names_unknown(names):
            raise CommandError(
                f"no mirror named {', '.join(map(repr, unknown))} (python manage.py "
                "mirror_add registers one)",
                returncode=2,
            )
        outcomes = mirrors_probe(names=names or None)
        if not outcomes:
            self.stdout.write("No mirror URL to probe.")
            return
        rows = [HEADER, *map(_row, outcomes)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
        for row in rows:
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
        problems = []
        for outcome in outcomes:
            probe, url = outcome.probe, outcome.url.url
            if probe.error:
                problems.append(f"{url}: {probe.error}")
            problems += [f"{url}: integrity: {finding}" for finding in probe.integrity_findings]
            if not outcome.good and not probe.error and not probe.integrity_findings:
                problems.append(probe_problem(probe))
        for problem in problems:
            self.stdout.write(f"! {problem}")
        bad = sum(1 for o in outcomes if not o.good)
        if bad:
            raise CommandError(f"{bad} of {len(outcomes)} probed URL(s) unhealthy", returncode=1)
