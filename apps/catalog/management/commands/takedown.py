"""``manage.py takedown NAME [--release V | --file FILENAME] --reason TEXT [--lift]``: the
admin's takedowns, scriptable (apps/catalog/takedowns.py)."""

import getpass
import socket

from django.core.management.base import BaseCommand, CommandError

from apps.catalog.takedowns import (
    Lifted,
    TakedownError,
    takedown_create,
    takedown_find_standing,
    takedown_lift,
)


def command_line_actor() -> str:
    """Who a takedown from the command line is recorded as: ``command-line (user@host)``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = "unknown"
    return f"command-line ({user}@{socket.gethostname()})"


class Command(BaseCommand):
    help = (
        "Take a project, one of its releases (--release) or one file (--file) down, with a "
        "reason: removed from every page at once, its files answering 410, journaled so that "
        "nodes below remove it too, never brought back by a sync while it stands. --lift "
        "lifts it: what the store still holds is served again at once, the rest comes back "
        "with the project's next sync."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", metavar="NAME", help="The project.")
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--release", metavar="V", help="Only this release (its version).")
        target.add_argument("--file", metavar="FILENAME", help="Only this file.")
        parser.add_argument("--reason", help="Why (kept with the takedown; required).")
        parser.add_argument("--lift", action="store_true", help="Lift the takedown instead.")
        parser.add_argument(
            "--by",
            metavar="WHO",
            help="Recorded as who did it (default: command-line (user@host)).",
        )

    def handle(self, *args, name: str, release, file, reason, lift: bool, by, **options):
        actor = by or command_line_actor()
        try:
            if lift:
                standing = takedown_find_standing(name=name, version=release, filename=file)
                self._report_lift(takedown_lift(takedown_id=standing.pk, actor=actor))
                return
            if not (reason or "").strip():
                raise CommandError("--reason is required to take something down", returncode=2)
            takedown = takedown_create(
                name=name, version=release, filename=file, reason=reason, actor=actor
            )
        except TakedownError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        held = takedown.files.count()
        removed = f"; {held} file(s) removed" if takedown.scope != takedown.Scope.PROJECT else ""
        self.stdout.write(
            f"Took down {_target(takedown)} (takedown #{takedown.pk}, by {takedown.created_by})"
            f"{removed}. Its files answer 410; nodes below remove it at their next sync."
        )

    def _report_lift(self, lifted: Lifted) -> None:
        takedown = lifted.takedown
        self.stdout.write(
            f"Lifted takedown #{takedown.pk} of {_target(takedown)} (by {takedown.lifted_by})."
        )
        if lifted.restored:
            self.stdout.write(f"Served again: {', '.join(lifted.restored)}.")
        for filename, why in lifted.left.items():
            self.stdout.write(f"Left to the project's next sync: {filename} ({why}).")


def _target(takedown) -> str:
    if takedown.scope == takedown.Scope.FILE:
        return f"file {takedown.filename}"
    if takedown.scope == takedown.Scope.RELEASE:
        return f"release {takedown.project.name} {takedown.version}"
    return f"project {takedown.project.name}"
