"""Misbehaviour on demand: what a hostile or broken upstream (or its CDN) does to a response.

A ``Fault`` is set on ``UpstreamServer.add_fault(fault, path=..., project=..., kind=...)`` and
applies to every matching request (or the first ``times`` of them). Kinds: ``root``
(``/simple/``), ``simple`` (``/simple/<p>/``, HTML or JSON), ``json`` (``/pypi/<p>/json``),
``file``, ``metadata`` (``<file>.metadata``), ``xmlrpc``.
"""

import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

EVIL_BYTES = b"not what you think\n"


@dataclass(frozen=True)
class Fault:
    """What to do instead of a correct answer; fields combine (delay then status, ...).

    - ``status``: answer this status (500, 503, 404, ...) with a short body instead.
    - ``delay``: wait this many seconds before answering (a timeout for a shorter client one).
    - ``truncate``: announce the full ``Content-Length``, send only this many body bytes, close.
    - ``corrupt``: same length, one byte changed in the middle (a hash mismatch for files).
    - ``oversize``: this many extra bytes appended, ``Content-Length`` included (a file larger
      than the ``size`` the JSON lists).
    - ``malformed_json``: the body cut in half, with a matching ``Content-Length``: a clean
      HTTP answer that does not parse.
    - ``stale``: the page as it was before the last ``write()``, with its old serial in the
      header and body (a lagging CDN); for a page that had no earlier version, the current
      body with ``X-PyPI-Last-Serial`` one lower.
    - ``evil_filename`` / ``evil_url``: project pages (JSON API, simple HTML/JSON) list one more
      file with this filename (e.g. ``../../evil.whl``, ``a/b.whl``) and/or this URL (a path
      such as ``/packages/../../etc/passwd`` is prefixed with the base URL).
    - ``reset``: close the connection with a TCP reset without answering.
    - ``times``: apply to the first N matching requests only (None: until cleared).
    """

    status: int | None = None
    delay: float = 0.0
    truncate: int | None = None
    corrupt: bool = False
    oversize: int = 0
    malformed_json: bool = False
    stale: bool = False
    evil_filename: str | None = None
    evil_url: str | None = None
    reset: bool = False
    times: int | None = None


@dataclass
class _Rule:
    fault: Fault
    path: str | None
    project: str | None
    kinds: frozenset[str] | None
    remaining: int | None


class FaultTable:
    """Thread-safe rules; the first rule that matches a request wins."""

    def __init__(self) -> None:
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()

    def add(
        self,
        fault: Fault,
        *,
        path: str | None = None,
        project: str | None = None,
        kind: str | Iterable[str] | None = None,
    ) -> None:
        kinds = frozenset([kind] if isinstance(kind, str) else kind) if kind else None
        with self._lock:
            self._rules.append(_Rule(fault, path, project, kinds, fault.times))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, path: str, kind: str | None, project: str | None) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if (
                    (rule.path is None or rule.path == path)
                    and (rule.project is None or rule.project == project)
                    and (rule.kinds is None or kind in rule.kinds)
                ):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self._rules.remove(rule)
                    return rule.fault
        return None


def mangle(fault: Fault, body: bytes) -> bytes:
    """The body-level faults: malformed, corrupt, oversize."""
    if fault.malformed_json:
        body = body[: len(body) // 2]
    if fault.corrupt and body:
        middle = len(body) // 2
        body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1 :]
    if fault.oversize:
        body += b"\0" * fault.oversize
    return body


def _evil_file(fault: Fault, base_url: str) -> tuple[str, str, str]:
    """(filename, url, sha256) of the injected file."""
    filename = fault.evil_filename or "evil-1.0-py3-none-any.whl"
    url = fault.evil_url or f"/packages/ev/il/{'0' * 60}/{quote(filename, safe='/')}"
    if url.startswith("/"):
        url = base_url + url
    return filename, url, hashlib.sha256(EVIL_BYTES).hexdigest()


def inject_evil_file(fault: Fault, body: bytes, content_type: str, base_url: str) -> bytes:
    """The project page with one more file listed, named and located as the fault says."""
    filename, url, sha256 = _evil_file(fault, base_url)
    if "json" not in content_type:  # text/html or application/vnd.pypi.simple.v1+html
        anchor = f'    <a href="{escape(url)}#sha256={sha256}">{escape(filename)}</a><br />\n'
        return body.replace(b"  </body>", anchor.encode() + b"  </body>", 1)
    data = json.loads(body)
    if "releases" in data:  # the JSON API
        entry = {
            **(data["urls"][0] if data["urls"] else {}),
            "filename": filename,
            "url": url,
            "size": len(EVIL_BYTES),
            "digests": {"sha256": sha256},
            "core-metadata": False,
        }
        data["urls"].append(entry)
        data["releases"].setdefault(data["info"]["version"], []).append(entry)
    else:
        data["files"].append(
            {
                **(data["files"][0] if data["files"] else {}),
                "filename": filename,
                "url": url,
                "hashes": {"sha256": sha256},
                "size": len(EVIL_BYTES),
                "core-metadata": False,
                "data-dist-info-metadata": False,
            }
        )
    return (json.dumps(data) + "\n").encode()
