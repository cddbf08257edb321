"""Repairing what a verify found: a missing or corrupt file is fetched again from its
project's upstream through the sync's own download path (``fetch_file``: streamed, size- and
sha256-checked before anything is placed) and put back; a file that cannot be (a local
project, the upstream down, the file gone there) is withdrawn from the index, journaled, until
a later repair or the project's next sync fetches it again."""

import logging
from collections import defaultdict

import httpx
from django.core.files import File

from apps.catalog.blobstore import blob_storage
from apps.catalog.models import Distribution, Project
from apps.catalog.withdrawal import distribution_withdraw

from .checking import distribution_check
from .models import Finding, VerifyRun
from .services import finding_set_repair

logger = logging.getLogger(__name__)

_REPAIRABLE = (Finding.Kind.MISSING, Finding.Kind.CORRUPT)


class CannotRepair(Exception):
    pass


def _row(distribution: Distribution) -> tuple:
    return (
        distribution.pk,
        distribution.project.normalized_name,
        distribution.filename,
        distribution.blob_path,
        distribution.size,
        distribution.sha256,
        distribution.core_metadata_sha256,
        distribution.provenance_sha256,
    )


def _upstream_of(source: str):
    from apps.replication.models import Upstream

    if not source.startswith("upstream:"):
        raise CannotRepair(f"its project's source is {source}: no upstream to fetch it from")
    upstream = Upstream.objects.filter(pk=source.partition(":")[2]).first()
    if upstream is None or not upstream.protocol:
        raise CannotRepair(f"its project's upstream ({source}) is gone or was never reached")
    return upstream


def distribution_refetch(distribution: Distribution, findings: list[Finding]) -> None:
    """Fetch the file again from its project's upstream and put it (with its metadata and
    provenance) back where the row says; CannotRepair when that fails."""
    from apps.replication.clients import UpstreamError
    from apps.replication.fetcher import fetch_file
    from apps.replication.services import upstream_client

    upstream = _upstream_of(distribution.project.source)
    client = upstream_client(upstream)
    try:
        remote = client.get_project(distribution.project.name)
    except (UpstreamError, httpx.HTTPError) as exc:
        raise CannotRepair(f"the upstream {upstream.name} did not answer: {exc}") from None
    wanted = None
    if hasattr(remote, "files"):  # None: gone upstream
        wanted = next(
            (
                f
                for f in remote.files
                if f.filename == distribution.filename and f.sha256 == distribution.sha256
            ),
            None,
        )
    if wanted is None:
        raise CannotRepair(f"the upstream {upstream.name} no longer lists this file")
    storage = blob_storage()
    for finding in findings:  # a bad blob is never kept: some storages would not replace it
        if finding.kind == Finding.Kind.CORRUPT:
            storage.delete(finding.path)
    try:
        fetched = fetch_file(
            client.http, wanted, page_url=remote.page_url, project=distribution.project.name
        )
    except UpstreamError as exc:
        raise CannotRepair(f"fetching it again failed: {exc}") from None
    if fetched.file.blob_path != distribution.blob_path:  # stored in the layout of before
        for suffix in ("", ".metadata"):
            placed = f"{fetched.file.blob_path}{suffix}"
            if storage.exists(placed):
                with storage.open(placed, "rb") as content:
                    storage.save(f"{distribution.blob_path}{suffix}", File(content))
                storage.delete(placed)  # else an orphan: no row names the new layout's path


def _not_back_yet(findings: list[Finding], run: VerifyRun) -> list[Finding]:
    """The findings whose file is still out of the index; those a sync brought back meanwhile
    are marked restored."""
    back = set(
        Distribution.objects.filter(filename__in=[f.filename for f in findings]).values_list(
            "filename", flat=True
        )
    )
    for finding in findings:
        if finding.filename in back:
            detail = f"back in the index (a sync fetched it), seen by verify #{run.pk}"
            finding_set_repair(finding=finding, repair=Finding.Repair.RESTORED, detail=detail)
    return [f for f in findings if f.filename not in back]


def hidden_restore(run: VerifyRun) -> int:
    """Bring back the files earlier repairs hid: each of their projects is synced from its
    upstream as a sync would (its rules applied; ``prepare_remote_project`` fetches what the
    catalog lacks, ``publish_many`` publishes it, journaled). How many files came back."""
    from apps.replication.catalog_sync import prepare_remote_project, publish_many
    from apps.replication.clients import UpstreamError
    from apps.replication.rules import remote_project_apply, rules_from_json
    from apps.replication.services import upstream_client

    hidden = Finding.objects.filter(kind__in=_REPAIRABLE, repair=Finding.Repair.HIDDEN)
    by_project: dict[str, list[Finding]] = defaultdict(list)
    for finding in hidden.exclude(filename=""):
        by_project[finding.project].append(finding)
    restored = 0
    for normalized, findings in by_project.items():
        project = Project.objects.filter(normalized_name=normalized).first()
        if project is None:
            continue
        findings = _not_back_yet(findings, run)
        if not findings:
            continue
        try:
            upstream = _upstream_of(project.source)
            client = upstream_client(upstream)
            remote = client.get_project(project.name)
        except (CannotRepair, UpstreamError, httpx.HTTPError):
            continue  # still cannot: tried again by the next repair
        if not hasattr(remote, "files"):
            continue
        remote = remote_project_apply(rules_from_json(upstream.rules), remote)
        prepared = prepare_remote_project(
            http=client.http, name=project.name, source=upstream.source, remote=remote
        )
        publish_many([prepared])
        back = set(
            Distribution.objects.filter(
                project=project, filename__in=[f.filename for f in findings]
            ).values_list("filename", flat=True)
        )
        for finding in findings:
            if finding.filename in back:
                detail = f"back in the index: fetched again by verify #{run.pk}"
                finding_set_repair(finding=finding, repair=Finding.Repair.RESTORED, detail=detail)
                restored += 1
    return restored


def run_repair(run: VerifyRun) -> dict[str, int]:
    """Repair the run's missing and corrupt blobs, then bring back what earlier repairs hid:
    counts of restored, hidden and brought back files."""
    counts = {"restored": 0, "hidden": 0, "back": hidden_restore(run)}
    by_file: dict[int, list[Finding]] = defaultdict(list)
    for finding in run.findings.filter(kind__in=_REPAIRABLE, repair=Finding.Repair.NONE):
        by_file[finding.distribution_id].append(finding)
    for distribution_id, findings in by_file.items():
        distribution = (
            Distribution.objects.select_related("project").filter(pk=distribution_id).first()
        )
        if distribution is None:
            for finding in findings:
                finding_set_repair(
                    finding=finding,
                    repair=Finding.Repair.FAILED,
                    detail="the file left the catalog",
                )
            continue
        try:
            distribution_refetch(distribution, findings)
            left, _read = distribution_check(blob_storage(), _row(distribution))
            if left:
                raise CannotRepair(f"still {left[0].get_kind_display().lower()} after fetching it")
        except CannotRepair as exc:
            distribution_withdraw(distribution_id=distribution_id)
            for finding in findings:
                if finding.kind == Finding.Kind.CORRUPT:  # never served again, nor kept in the
                    blob_storage().delete(finding.path)  # way of the bytes a sync fetches
                finding_set_repair(finding=finding, repair=Finding.Repair.HIDDEN, detail=str(exc))
            counts["hidden"] += 1
            logger.warning("verify #%s: %s hidden: %s", run.pk, distribution.filename, exc)
            continue
        for finding in findings:
            finding_set_repair(
                finding=finding, repair=Finding.Repair.RESTORED, detail="fetched from the upstream"
            )
        counts["restored"] += 1
    return counts
