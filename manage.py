#!/usr/bin/env python
"""Django's command-line utility for pypimirror."""

import gc
import os
import sys

# Commands that need only the domain apps (settings.DOMAIN_APPS): they start without the admin,
# auth, DRF and django-celery-beat, with 27 % fewer instructions. Operators run `sync` from cron
# and by hand; a no-op sync is mostly start-up. An explicit PYPIMIRROR_APPS wins. They serve no
# page, so DEBUG (the embedded default's) would only keep every SQL statement they run,
# formatted: off unless DJANGO_DEBUG says otherwise (a tenth of an initial sync's CPU).
DOMAIN_COMMANDS = {"sync", "index_refresh"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pypimirror.settings.local")
    if sys.argv[1:2] and sys.argv[1] in DOMAIN_COMMANDS:
        os.environ.setdefault("PYPIMIRROR_APPS", "domain")
        os.environ.setdefault("DJANGO_DEBUG", "false")
    import django
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    # Start-up (settings, apps, models) makes some 70,000 tracked objects that live until exit: the
    # collector would walk them again and again while they are made (~40 ms of a command that
    # may take half a second), and at every full collection after. Pause it, then set them
    # aside for good. Settings that do not load are left to execute_from_command_line, which
    # explains them.
    try:
        settings.INSTALLED_APPS  # noqa: B018 (loads the settings, or raises)
    except (ImportError, ImproperlyConfigured):
        pass
    else:
        gc.disable()
        try:
            django.setup()
        finally:
            gc.freeze()
            gc.enable()
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
