"""A Celery worker beside a live server (tests/support/servers.py), on a broker of the test's."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .servers import PROJECT_ROOT, STARTUP_TIMEOUT, LiveServer, ServerError


@dataclass
class CeleryWorker:
    """A ``celery -A pypimirror worker`` beside a live server: its database, data directory and
    settings, on ``broker``; its output in ``log``."""

    process: subprocess.Popen = field(repr=False)
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def celery_worker(server: LiveServer, *, broker: str, log: Path) -> Iterator[CeleryWorker]:
    """A worker on ``server``'s environment and ``broker`` (the server's ``manage`` commands
    get that broker too), ready when yielded; stopped (its process group) on exit. The broker
    must have no other worker."""
    from celery import Celery

    server.env["CELERY_BROKER_URL"] = broker
    sender = Celery("pypimirror-tests", broker=broker)
    if sender.control.inspect(timeout=0.5).ping():
        raise ServerError(f"other Celery workers use {broker}")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "pypimirror", "worker"),
                *("-n", f"e2e-{uuid.uuid4().hex[:8]}@%h", "--concurrency=2", "--loglevel=INFO"),
                *("--without-gossip", "--without-mingle"),
            ],
            cwd=PROJECT_ROOT,
            env=server.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    worker = CeleryWorker(process, log)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not (sender.control.inspect(timeout=0.5).ping() or {}):
            if process.poll() is not None or time.monotonic() > deadline:
                raise ServerError(f"the Celery worker did not start:\n{worker.output()}")
        yield worker
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        sender.close()
