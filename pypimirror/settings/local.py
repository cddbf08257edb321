"""The embedded default: SQLite, local files, a broker that needs no server."""

from pypimirror.exposure import DEVELOPMENT_SECRET_KEY

from .base import *  # noqa: F403
from .base import SECRET_KEY, env

# Fine on loopback; bin/run and gunicorn refuse both beyond it (pypimirror/exposure.py).
DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = SECRET_KEY or DEVELOPMENT_SECRET_KEY
