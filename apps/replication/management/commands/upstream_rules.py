import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.replication.bandersnatch_config import rules_from_bandersnatch
from apps.replication.models import Upstream
from apps.replication.rules import Rules, RulesError, rules_from_json
from apps.replication.services import upstream_rules_set


class Command(BaseCommand):
    help = (
        "Show or replace the rules of an upstream (what of it this node mirrors), as JSON or "
        "from a bandersnatch configuration. Exit 0 when done, 2 for a bad file or an unknown "
        "upstream (nothing is changed then)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("upstream", metavar="NAME", help="The name of a configured upstream.")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--show", action="store_true", help="Print the rules as JSON.")
        action.add_argument(
            "--set", metavar="FILE.json", help="Replace the rules with those in this JSON file."
        )
        action.add_argument(
            "--from-bandersnatch",
            metavar="FILE",
            help="Replace the rules with the filters of this bandersnatch configuration.",
        )

    def handle(self, *args, upstream: str, show: bool, **options) -> None:
        target = Upstream.objects.filter(name=upstream).first()
        if target is None:
            names = ", ".join(Upstream.objects.values_list("name", flat=True)) or "none"
            raise CommandError(
                f"no upstream named {upstream!r} (configured: {names})", returncode=2
            )
        if show:
            self.stdout.write(json.dumps(target.rules, indent=2, sort_keys=True))
            return
        if path := options["set"]:
            rules = self._read(path, lambda text: rules_from_json(json.loads(text)))
        else:
            rules = self._read(options["from_bandersnatch"], rules_from_bandersnatch)
        upstream_rules_set(upstream=target, rules=rules)
        self.stdout.write(json.dumps(target.rules, indent=2, sort_keys=True))
        self.stdout.write(f"Rules of {target.name} replaced; its next sync applies them.")

    @staticmethod
    def _read(path: str, parse) -> Rules:
        try:
            return parse(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}", returncode=2) from None
        except UnicodeDecodeError:
            raise CommandError(f"{path}: not UTF-8 text", returncode=2) from None
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path}: not JSON: {exc}", returncode=2) from None
        except RulesError as exc:
            raise CommandError(f"{path}: {exc}; nothing changed", returncode=2) from None
