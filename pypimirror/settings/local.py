"""The embedded default: SQLite, local files, a broker that needs no server."""

from .base import *  # noqa: F403
from .base import SECRET_KEY, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "insecure-local-development-key-change-me"
