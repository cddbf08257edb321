import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.network.models import Mirror
from apps.network.services import mirror_create, mirror_token_issue


def _message(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{'' if field == '__all__' else field + ': '}{' '.join(messages)}"
            for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


class Command(BaseCommand):
    help = (
        "Register a mirror of the network with its base URL and print its token, once, on "
        "standard output (the mirror sets it as PYPIMIRROR_HUB_TOKEN). Exit 2, with nothing "
        "saved, for a bad or taken name, a bad country, e-mail or URL, or an unknown --follows "
        "mirror."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", metavar="NAME", help="The mirror's name (a slug: a-z0-9-_).")
        parser.add_argument("url", metavar="URL", help="Its base URL (https://host/pypi/).")
        parser.add_argument("--country", default="", help="ISO 3166-1 alpha-2 code: DE, US...")
        parser.add_argument("--email", default="", help="Its admin's e-mail address.")
        parser.add_argument(
            "--follows",
            metavar="MIRROR|URL",
            default="",
            help="What it syncs from: a registered mirror's name, or an outside index's URL "
            "(https://pypi.org). Default: this hub.",
        )

    def handle(self, *args, name: str, url: str, country: str, email: str, follows: str, **o):
        follows_mirror, follows_url = None, ""
        if "://" in follows:
            follows_url = follows
        elif follows:
            follows_mirror = Mirror.objects.filter(name=follows).first()
            if follows_mirror is None:
                known = ", ".join(Mirror.objects.values_list("name", flat=True)) or "none"
                raise CommandError(
                    f"--follows {follows!r}: no mirror of that name (registered: {known}); "
                    "give a URL (https://...) for an index outside the network",
                    returncode=2,
                )
        try:
            mirror = mirror_create(
                name=name,
                url=url,
                country=country,
                admin_email=email,
                follows_mirror=follows_mirror,
                follows_url=follows_url,
            )
        except ValidationError as exc:
            raise CommandError(
                f"mirror {name!r} not added: {_message(exc)}", returncode=2
            ) from None
        _, token = mirror_token_issue(mirror=mirror)
        url = mirror.urls.get().url
        sys.stderr.write(
            f"Added mirror {mirror.name} ({url}, follows {mirror.follows}, tier {mirror.tier}). "
            "Its token, on standard output, is shown this once: set it as "
            "PYPIMIRROR_HUB_TOKEN on the mirror.\n"
        )
        self.stdout.write(token)
