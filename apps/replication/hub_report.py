"""This node's report of its own state to the hub of its network.

Two settings make a node a member: ``PYPIMIRROR_HUB_URL`` (the hub's base URL) and
``PYPIMIRROR_HUB_TOKEN`` (the token ``manage.py mirror_add`` printed on the hub). The token tells
the hub which mirror speaks, so the node needs no name of its own: it posts to the hub's
``/api/v1/reports/``. It reports after every sync run ends (receivers.py, from the process that
ended it: ``manage.py sync`` or a worker) and every 10 minutes (the beat task of migration 0009).

A report is a hint to the hub (its probes are the truth) and never the sync's business: it
takes at most ``TIMEOUT`` seconds, and any failure is a warning in the log, never an error. The
token is never logged nor shown. Plain httpx and the domain apps' models: ``manage.py sync``
runs without the network app (settings.DOMAIN_APPS).
"""

import logging
import shutil
from dataclasses import asdict, dataclass

import httpx
from django.conf import settings

import pypimirror

from .models import SyncRun
from .redaction import redact_text, redact_url
from .selectors import upstream_status_list

logger = logging.getLogger(__name__)

SOFTWARE = "pypimirror"
REPORTS_PATH = "/api/v1/reports/"
# Seconds for the whole exchange (connecting at most CONNECT_TIMEOUT of them): a hub that is
# down delays the end of a sync by no more.
TIMEOUT = 5.0
CONNECT_TIMEOUT = 3.0


@dataclass(frozen=True)
class NodeReport:
    """What the node says of itself, in the hub's report fields."""

    state: str  # syncing / idle / failed / paused
    serial: int  # this node's own last serial (its journal's), what its followers see
    upstream_serial: int | None  # the serial of what it follows that it has reached
    software: str
    version: str
    free_disk_bytes: int | None


def hub_configured() -> bool:
    return bool(settings.PYPIMIRROR_HUB_URL and settings.PYPIMIRROR_HUB_TOKEN)


def hub_reports_url(hub_url: str) -> str:
    """Where reports go, from the hub's base URL (its ``/simple/`` URL is taken too)."""
    base = hub_url.strip().rstrip("/").removesuffix("/simple")
    return base + REPORTS_PATH


def free_disk_bytes() -> int | None:
    """Free bytes on the data directory's file system (the store is under it)."""
    try:
        return shutil.disk_usage(settings.DATA_DIR).free
    except OSError:
        return None


def node_report() -> NodeReport:
    """The node's state now, in three queries.

    ``paused`` when every upstream is disabled; else ``syncing`` while the last run of an
    enabled upstream is in progress, ``failed`` when one's last run failed as a whole (a run
    where some projects failed is ``idle``: they are retried on the next run), ``idle``
    otherwise. The upstream serial is that of the enabled upstream synced most recently.
    """
    from apps.catalog.selectors import journal_last_serial

    upstreams = upstream_status_list()
    enabled = [u for u in upstreams if u.enabled]
    last_states = {u.last_run.state for u in enabled if u.last_run is not None}
    if upstreams and not enabled:
        state = "paused"
    elif last_states & {SyncRun.State.PLANNING, SyncRun.State.RUNNING}:
        state = "syncing"
    elif SyncRun.State.FAILED in last_states:
        state = "failed"
    else:
        state = "idle"
    synced = [u for u in enabled if u.last_success is not None]
    latest = max(synced, key=lambda u: u.last_success.started, default=None)
    return NodeReport(
        state=state,
        serial=journal_last_serial(),
        upstream_serial=latest.serial_reached if latest is not None else None,
        software=SOFTWARE,
        version=pypimirror.__version__,
        free_disk_bytes=free_disk_bytes(),
    )


def hub_report_send(*, timeout: float = TIMEOUT) -> bool:
    """Post the node's report to its hub: True once the hub kept it. Without both settings,
    nothing (False). Never raises: a failure is logged as a warning, without the token."""
    hub_url, token = settings.PYPIMIRROR_HUB_URL, settings.PYPIMIRROR_HUB_TOKEN
    if not (hub_url and token):
        return False
    url = hub_reports_url(hub_url)
    shown = redact_url(url)
    try:
        report = node_report()
        with httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
            headers={"User-Agent": settings.PYPIMIRROR_USER_AGENT},
            follow_redirects=False,  # the token goes to the hub's URL only
        ) as http:
            response = http.post(
                url, json=asdict(report), headers={"Authorization": f"Bearer {token}"}
            )
    except Exception as exc:  # the hub, the network or this node's database: all a warning
        reason = redact_text(str(exc) or type(exc).__name__, [token])
        logger.warning("report to the hub %s not sent: %s", shown, reason)
        return False
    if response.status_code != 201:
        logger.warning(
            "report to the hub %s refused: HTTP %s %s",
            shown,
            response.status_code,
            redact_text(_detail(response), [token]),
        )
        return False
    mirror = _field(response, "mirror")
    logger.info(
        "reported to the hub %s%s: %s, serial %s",
        shown,
        f" as mirror {mirror}" if mirror else "",
        report.state,
        report.serial,
    )
    return True


def _field(response: httpx.Response, name: str) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get(name, "")) if isinstance(body, dict) else ""


def _detail(response: httpx.Response) -> str:
    """What the hub said was wrong, short: DRF's ``detail``, or the body's start."""
    detail = _field(response, "detail")
    if not detail:
        detail = response.text[:200] if "json" in response.headers.get("content-type", "") else ""
    return f"({detail})" if detail else ""
