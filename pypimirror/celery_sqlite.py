"""The embedded default's Celery transport (``sqla+sqlite:///...``): pypimirror.celery names it
for the SQLAlchemy URLs, and kombu imports it (with SQLAlchemy) only for such a broker."""

from kombu.transport import sqlalchemy


class SQLiteTransport(sqlalchemy.Transport):
    """The embedded default's broker: kombu's SQLAlchemy transport on a SQLite file, polled
    every 0.1 s rather than every second.

    The transport cannot wake a worker when a message comes: the worker looks, and when it
    finds none, or its pool is busy, sleeps ``polling_interval`` (kombu's default: 1 s) before
    looking again. As each batch of a sync ended, its pool process waited for the next look, up
    to a second a batch (a scheduled sync of 40 projects: 12 s, against 3.7 s in the foreground).
    An idle worker's look is one indexed SELECT. SQLAlchemy takes every other transport option
    as an engine argument, so the interval cannot be given as one: this class is named for the
    SQLAlchemy URLs instead (``sqla+sqlite:///...``) in every process that loads this module.
    """

    polling_interval = 0.1
