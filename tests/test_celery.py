"""pypimirror/celery.py with the settings' broker options, in a fresh process: the embedded
SQLite broker and Redis both carry a message, and Redis gets the visibility timeout."""

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
    options, payload = json.loads(result.stdout)
    return options, payload


def test_the_embedded_broker_carries_a_message_with_no_redis_option(tmp_path):
    options, payload = round_trip(f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}", tmp_path)

    assert (options, payload) == ({}, {"hello": 1})


def test_redis_gets_the_visibility_timeout_from_the_environment(tmp_path):
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS}")

    default, _ = round_trip(REDIS, tmp_path)
    options, payload = round_trip(REDIS, tmp_path, CELERY_BROKER_VISIBILITY_TIMEOUT="120")

    assert default == {"visibility_timeout": 1800}
    assert (options, payload) == ({"visibility_timeout": 120}, {"hello": 1})
