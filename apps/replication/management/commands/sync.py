import gc
import threading

from django.apps import apps as django_apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.replication.clients import UpstreamUnusable
from apps.replication.fetch_helpers import helpers_terminate
from apps.replication.models import SyncRun, Upstream
from apps.replication.redaction import redact_text, redact_url, url_secrets
from apps.replication.rules import RulesError, project_allowed, rules_from_json
from apps.replication.run_projects import LOST_NAMED, run_finish_lost
from apps.replication.runner import (
    StallWatch,
    dispatch,
    run_in_process,
    wait_for_run,
    workers_available,
)
from apps.replication.selectors import upstream_for_url
from apps.replication.services import SyncInProgress, sync_run_start, upstream_create


def _as_is(text: str) -> str:
    return text


class Command(BaseCommand):
    help = (
        "Sync from an upstream index in the foreground: exit 0 when every project succeeded, "
        "1 when some failed or were lost with their workers, 2 when the upstream cannot be used."
    )
    # The system checks (URLs, admin, templates, models) are for the web process and deployments:
    # `check`, `runserver` and `migrate` run them. Here they would cost ~0.2 s, a fifth of a no-op.
    requires_system_checks = []

    def run_from_argv(self, argv: list[str]) -> None:
        # A process of its own (manage.py, not call_command): what was built before the work
        # starts lives until exit. manage.py froze what django.setup() made; this also sets
        # aside what loading this command imported (httpx, Celery, the clients), so that a full
        # collection, set off by the 20,000 entries of a big index, need not walk any of it.
        gc.freeze()
        super().run_from_argv(argv)

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "upstream",
            metavar="URL_OR_NAME",
            help="An upstream's base URL (https://pypi.org), its simple index URL "
            "(http://host:8080/simple/), or the name of a configured upstream.",
        )
        parser.add_argument(
            "--project",
            action="append",
            default=[],
            metavar="NAME",
            help="Sync only this project (repeatable), whatever its serial. A new upstream is "
            "created with an allow-list of exactly these projects; an existing one keeps its "
            "rules, and a named project they exclude is not synced.",
        )
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="Do the work here even when Celery workers are running.",
        )
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.PYPIMIRROR_SYNC_CONCURRENCY,
            help="At most this many projects read upstream at once when working in-process, as "
            "many as help: fewer while the process is busy on the CPU (default: %(default)s).",
        )
        parser.add_argument(
            "--stall-timeout",
            type=float,
            default=settings.PYPIMIRROR_SYNC_STALL_TIMEOUT,
            metavar="SECONDS",
            help="Following the Celery workers: give the run up when for this long no project "
            "finished, no lease was renewed, and no live worker has a task of it; its pending "
            "projects are then reported lost, for the next run (default: %(default)s, "
            "PYPIMIRROR_SYNC_STALL_TIMEOUT).",
        )

    def handle(self, *args, upstream: str, project: list[str], **options) -> None:
        target = self._upstream(upstream, projects=project)
        refused = self._refused(target, project)
        project = [name for name in project if name not in refused]
        if refused and not project:
            raise CommandError("nothing to sync", returncode=1)
        try:
            run, names = sync_run_start(
                upstream=target, trigger=SyncRun.Trigger.COMMAND, projects=project or None
            )
        except UpstreamUnusable as exc:
            raise CommandError(f"{redact_url(target.url)}: {exc}", returncode=2) from None
        except SyncInProgress as exc:
            self.stdout.write(
                f"A sync of {target.name} is already running (run #{exc.run.pk}); following it."
            )
            run = exc.run
            self._follow(run, options["stall_timeout"])
            return
        self.stdout.write(
            f"Syncing {target.name} ({redact_url(target.url)}, {target.protocol}): "
            f"{len(names)} project(s) to visit, run #{run.pk}."
        )
        if names:
            if not options["in_process"] and workers_available():
                self.stdout.write("Handing the projects to the Celery workers.")
                dispatch(run, names)
                self._follow(run, options["stall_timeout"])
                return
            else:
                worker = threading.Thread(
                    target=run_in_process,
                    args=(run, names),
                    kwargs={"concurrency": options["concurrency"]},
                    daemon=True,
                )
                worker.start()
                # Looked at 4 times a second, not 20: each look (a query and the progress line)
                # takes the GIL from the threads that sync; the join returns as they finish.
                try:
                    run = wait_for_run(
                        run,
                        progress=self._progress,
                        stop=lambda: not worker.is_alive(),
                        interval=0.25,
                        pause=worker.join,
                    )
                except BaseException:  # Ctrl-C: no waiting on the helpers' downloads
                    helpers_terminate()
                    raise
                worker.join()
            self.stderr.write("")
        self._summary(run)
        if refused:
            raise CommandError(
                f"{len(refused)} project(s) not synced: the rules exclude them", returncode=1
            )

    def _refused(self, upstream: Upstream, projects: list[str]) -> list[str]:
        """The named projects the upstream's rules exclude, each reported."""
        try:
            rules = rules_from_json(upstream.rules)
        except RulesError as exc:
            raise CommandError(f"{upstream.name}: bad rules: {exc}", returncode=2) from None
        refused = [name for name in projects if not project_allowed(rules, name)]
        for name in refused:
            self.stderr.write(
                f"{name}: excluded by the rules of {upstream.name}; not synced "
                f"(see: manage.py upstream_rules {upstream.name} --show)"
            )
        return refused

    _last_tenth = -1

    def _follow(self, run: SyncRun, stall_timeout: float) -> None:
        """Wait for the workers to finish the run; when no progress is possible (StallWatch),
        end it partial and name the projects lost, which the next run takes."""
        wait_for_run(run, progress=self._progress, stop=StallWatch(run, timeout=stall_timeout))
        self.stderr.write("")
        lost = []
        if run.state in (SyncRun.State.PLANNING, SyncRun.State.RUNNING):
            lost = run_finish_lost(run=run)
            run.refresh_from_db()
        self._summary(run, fail=not lost)
        if lost:
            shown = ", ".join(lost[:LOST_NAMED]) + (", ..." if len(lost) > LOST_NAMED else "")
            raise CommandError(
                f"{len(lost)} project(s) lost: their workers stopped and no progress was "
                f"possible for {stall_timeout:g} s ({shown}); the next run takes them",
                returncode=1,
            )

    def _upstream(self, value: str, *, projects: list[str]) -> Upstream:
        if "://" in value:
            try:
                if (upstream := upstream_for_url(url=value)) is not None:
                    return upstream
                if not django_apps.is_installed("django_celery_beat"):
                    _schedules_app_load()
                # Saved only once a first contact succeeds: a URL that cannot be used exits 2
                # and leaves no upstream (nor periodic sync) behind. Named with projects, it
                # mirrors just those, now and periodically.
                rules = rules_from_json({"allow": projects}) if projects else None
                return upstream_create(url=value, rules=rules)
            except UpstreamUnusable as exc:
                raise CommandError(
                    redact_text(f"{redact_url(value)}: {exc}", url_secrets(value)), returncode=2
                ) from None
        upstream = Upstream.objects.filter(name=value).first()
        if upstream is None:
            names = ", ".join(Upstream.objects.values_list("name", flat=True)) or "none"
            raise CommandError(
                f"no upstream named {value!r} (configured: {names}); give a URL instead",
                returncode=2,
            )
        return upstream

    def _progress(self, run: SyncRun) -> None:
        planned = run.projects_planned or 1
        width = 30
        filled = int(width * run.projects_finished / planned)
        line = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {run.projects_finished}/"
            f"{run.projects_planned} projects, {run.files_fetched} files, "
            f"{run.bytes_fetched / 1e6:.1f} MB, {run.projects_failed} failed"
        )
        # On stderr (stdout is for the summary), but not in its error style: progress is no error.
        if self.stderr.isatty():
            self.stderr.write(line, ending="", style_func=_as_is)
            self.stderr.flush()
        elif (tenth := 10 * run.projects_finished // planned) != self._last_tenth:
            self._last_tenth = tenth  # logs and pipes: a line per tenth, not a line per poll
            self.stderr.write(line.lstrip("\r"), style_func=_as_is)

    def _summary(self, run: SyncRun, *, fail: bool = True) -> None:
        self.stdout.write(
            f"Run #{run.pk} {run.state}: {run.projects_done} done, {run.projects_failed} failed, "
            f"{run.projects_skipped} skipped; {run.files_fetched} files, "
            f"{run.bytes_fetched} bytes; serial {run.serial_from} -> {run.serial_to}"
            + (f"; {run.projects_shadowed} shadowed." if run.projects_shadowed else ".")
        )
        if run.shadowed:
            self.stdout.write(
                "Shadowed (another source owns them here; left as they are, see the admin's "
                "Projects to hand one over):"
            )
            for item in run.shadowed:
                self.stdout.write(f"  {item['project']}: {item['owner']}")
        for item in run.errors:
            self.stderr.write(f"  {item['project']}: {item['error']}")
        if run.projects_failed and fail:
            raise CommandError(f"{run.projects_failed} project(s) failed", returncode=1)


def _schedules_app_load() -> None:
    """Add django-celery-beat to this process's apps. The command started with the domain apps
    alone (manage.py), but a new upstream gets its periodic sync, kept by django-celery-beat,
    created with it in one transaction: only a first contact pays for loading it (Celery's
    import, some 0.15 s; starting the command over with every app cost 0.3-0.5 s)."""
    django_apps.set_installed_apps([*settings.INSTALLED_APPS, "django_celery_beat"])
