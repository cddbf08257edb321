"""pypimirror/celery.py with the settings' broker options, in a fresh process: the embedded
SQLite broker and Redis both carry a message, the SQLite one is polled often, and Redis gets
the visibility timeout. pypimirror/broker.py tells a broker without broadcast from its URL."""

import json
import os
import subprocess
import sys

import pytest

from tests.support.servers import PROJECT_ROOT

REDIS = os.environ.get("PYPIMIRROR_TEST_CRASH_BROKER", "redis://127.0.0.1:6379/5")
ROUND_TRIP = """
import json
from pypimirror.celery import app
with app.connection() as connection:
    queue = connection.SimpleQueue("pypimirror-settings-check")
    queue.put({"hello": 1})
    message = queue.get(timeout=5)
    message.ack()
    queue.queue.delete()
print(json.dumps([app.conf.broker_transport_options, message.payload]))
print(json.dumps([type(connection.transport).__name__, connection.transport.polling_interval]))
"""


def round_trip(broker: str, tmp_path, **env: str) -> tuple[dict, dict]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYPIMIRROR_", "CELERY_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="pypimirror.settings.local",
        PYPIMIRROR_DATA_DIR=str(tmp_path),
        CELERY_BROKER_URL=broker,
        **env,
    )
    result = subprocess.run(
        [sys.executable, "-c", ROUND_TRIP],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    carried, transport = result.stdout.splitlines()
    options, payload = json.loads(carried)
    return options, payload, json.loads(transport)


def test_the_embedded_broker_carries_a_message_with_no_redis_option(tmp_path):
    options, payload, _ = round_trip(f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}", tmp_path)

    assert (options, payload) == ({}, {"hello": 1})


def test_the_embedded_broker_is_polled_every_tenth_of_a_second(tmp_path):
    # kombu's 1 s held each batch of a scheduled sync up to a second (celery_sqlite.py)
    _, _, transport = round_trip(f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}", tmp_path)

    assert transport == ["SQLiteTransport", 0.1]


def test_redis_gets_the_visibility_timeout_from_the_environment(tmp_path):
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS}")

    default, _, (transport, _) = round_trip(REDIS, tmp_path)
    options, payload, _ = round_trip(REDIS, tmp_path, CELERY_BROKER_VISIBILITY_TIMEOUT="120")

    assert (default, transport) == ({"visibility_timeout": 1800}, "Transport")
    assert (options, payload) == ({"visibility_timeout": 120}, {"hello": 1})


@pytest.mark.parametrize(
    ("url", "broadcasts"),
    [
        ("sqla+sqlite:////var/lib/pypimirror/celery-broker.sqlite3", False),
        ("sqlalchemy+postgresql://u@db/broker", False),
        ("redis://127.0.0.1:6379/0", True),
    ],
)
def test_a_broker_without_broadcast_is_told_from_its_url(url, broadcasts):
    from pypimirror.broker import broker_broadcasts

    assert broker_broadcasts(url) is broadcasts


def test_sync_does_not_wait_for_a_ping_the_embedded_broker_cannot_carry(settings):
    """No worker can hear it there: `sync` works in-process at once (it waited out the ping's
    timeout, 1.7 s, on every run)."""
    from apps.replication.runner import workers_available

    settings.CELERY_BROKER_URL = "sqla+sqlite:////nonexistent/dir/broker.sqlite3"

    assert workers_available(timeout=30) is False
