"""Servers the tests start as subprocesses on loopback (pypiserver, moto's S3): a free port, a
wait until one answers, a stop that never leaves one running."""

import contextlib
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def wait_until_answering(
    process: subprocess.Popen,
    url: str,
    *,
    name: str,
    log: Path,
    timeout: float,
    answered: Callable[[httpx.Response], bool] = lambda response: True,
    error: type[Exception] = RuntimeError,
) -> None:
    """Poll ``url`` until ``answered(response)``; ``error`` with the log when the process exits
    first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise error(f"{name} exited {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(httpx.TransportError):
            if answered(httpx.get(url, timeout=2)):
                return
        if time.monotonic() > deadline:
            raise error(f"{name} did not answer in {timeout}s")
        time.sleep(0.05)


def process_stop(process: subprocess.Popen, *, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
