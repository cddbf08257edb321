"""What the project knows of its brokers without importing Celery (domain processes use it)."""

# kombu's SQLAlchemy transport: the embedded default's broker, a SQLite file
# (``sqla+sqlite:///...``). pypimirror.celery polls it more often than kombu would.
SCHEMES = ("sqla", "sqlalchemy")


def broker_broadcasts(url: str) -> bool:
    """Whether the broker at ``url`` carries broadcasts (a ping, inspect, remote control).
    The SQLAlchemy transport does not (no fanout): told from the URL alone, as importing the
    transport imports SQLAlchemy (0.15 s of a `sync` that would then not use it)."""
    scheme = url.partition("://")[0].partition("+")[0]
    if scheme in SCHEMES:
        return False
    from kombu import Connection

    return "fanout" in Connection(url).transport.implements.exchange_type
