"""WSGI entry point, as gunicorn loads it: ``pypimirror.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pypimirror.settings.production")

application = get_wsgi_application()
