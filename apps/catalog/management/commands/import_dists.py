from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.catalog.importing import Outcome, distribution_import, find_distributions


class Command(BaseCommand):
    help = "Import wheels and sdists (files, or folders searched recursively) into the catalog."

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")

    def handle(self, *args, paths: list[Path], **options) -> None:
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise CommandError(f"no such file or folder: {', '.join(missing)}")
        counts = dict.fromkeys(Outcome, 0)
        for path in find_distributions(paths):
            result = distribution_import(path)
            counts[result.outcome] += 1
            if result.outcome is Outcome.FAILED:
                self.stderr.write(self.style.ERROR(f"error: {path}: {result.detail}"))
            elif options["verbosity"] > 1:
                self.stdout.write(f"{result.outcome}: {path}")
        summary = ", ".join(f"{counts[o]} {o}" for o in Outcome)
        self.stdout.write(f"Imported: {summary}.")
        if counts[Outcome.FAILED]:
            raise CommandError(
                f"{counts[Outcome.FAILED]} file(s) could not be imported", returncode=1
            )
