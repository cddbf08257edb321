"""The reference of probe.py: archweb's mirror check, written from its described behaviour (its
``mirrorcheck`` command: a pool of 10 threads, each fetching one mirror URL's ``lastsync``, an
epoch the mirror writes after each sync, with urllib and a 10 s timeout, the time parsed and the
check's duration kept). Standard library only, so its memory is Python's and the check's.

    python benchmarks/_archweb_check.py URLS.json   # prints RESULTS [{url, ok, duration, ...}]
"""

import json
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

THREADS = 10
TIMEOUT = 10.0


def archweb_check(urls: list[str], *, threads: int = THREADS, timeout: float = TIMEOUT):
    """Each base URL's ``lastsync`` fetched by ``threads`` threads, ``timeout`` seconds for each
    socket operation (urllib's meaning), and read as an epoch."""

    def check(base: str) -> dict:
        request = urllib.request.Request(base + "lastsync", headers={"User-Agent": "archweb/1.0"})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                last_sync = datetime.fromtimestamp(int(response.read()), tz=UTC)
            return {"url": base, "ok": True, "duration": time.monotonic() - started,
                    "last_sync": last_sync.isoformat()}  # fmt: skip
        except (OSError, ValueError) as exc:  # URLError, HTTPError and timeouts are OSErrors
            return {"url": base, "ok": False, "duration": time.monotonic() - started,
                    "error": f"{type(exc).__name__}: {exc}"}  # fmt: skip

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(check, urls))


if __name__ == "__main__":
    print("RESULTS " + json.dumps(archweb_check(json.loads(Path(sys.argv[1]).read_text()))))
