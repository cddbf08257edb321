"""The journal: one entry per change to the catalog, its id the serial (PyPI's changelog).
Each write also bumps the catalog's generation once its transaction commits (generation.py).

Every action is a member of ``Action``, worded as PyPI words it, so that ``changelog_since_serial``
reads the same here as there; nothing else spells an action.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import Enum

from django.db.models import Max
from django.utils import timezone
from packaging.utils import canonicalize_name

from .generation import catalog_changed
from .models import JournalEntry, Project


class Action(Enum):
    CREATE = "create"
    NEW_RELEASE = "new release"
    ADD_FILE = "add {python_version} file {filename}"
    REMOVE_FILE = "remove file {filename}"
    REMOVE_RELEASE = "remove release"
    YANK_RELEASE = "yank release"
    UNYANK_RELEASE = "unyank release"
    YANK_FILE = "yank file {filename}"
    UNYANK_FILE = "unyank file {filename}"
    REMOVE_PROJECT = "remove project"
    BLOCK_PROJECT = "block project"
    UNBLOCK_PROJECT = "unblock project"
    # This node's own wording (PyPI journals no status and no provenance): a serial for each,
    # so that nodes below follow them.
    SET_STATUS = "project status {status}"
    ADD_PROVENANCE = "add provenance {filename}"

    def text(self, **fields: str) -> str:
        """The action as the journal records it, e.g. ``add py3 file x-1.0-py3-none-any.whl``."""
        return self.value.format(**fields)


def journal_entry(
    *, project: Project, action: Action, version: str | None = None, **fields: str
) -> JournalEntry:
    """An unsaved entry; ``fields`` fill the action's wording (``filename``, ...)."""
    return JournalEntry(
        name=project.name,
        normalized_name=project.normalized_name,
        version=version,
        action=action.text(**fields),
    )


_batches: ContextVar[dict[str, list[JournalEntry]] | None] = ContextVar(
    "journal_batches", default=None
)


def journal_write(
    *, project: Project, action: Action, version: str | None = None, **fields: str
) -> JournalEntry:
    """Record one change and move the project's serial to it. Call inside the project's lock.

    Inside ``journal_batch`` for the project, the entry is queued and written (with its serial)
    when the batch ends.
    """
    entry = journal_entry(project=project, action=action, version=version, **fields)
    pending = (_batches.get() or {}).get(project.normalized_name)
    if pending is not None:
        pending.append(entry)
        return entry
    entry.save()
    project.last_serial = entry.pk
    project.save(update_fields=["last_serial", "updated"])
    catalog_changed()
    return entry


@contextmanager
def journal_batch(*, project: Project | None = None, name: str = "") -> Iterator[None]:
    """Many changes to one project (given, or by name when it may not exist yet): their journal
    entries are inserted together, in order, and the project row is written once with the
    newest serial. Inside the project's lock."""
    normalized = project.normalized_name if project is not None else canonicalize_name(name)
    if normalized in (_batches.get() or {}):
        yield  # inside an outer batch of the project: it writes these entries too
        return
    pending: list[JournalEntry] = []
    token = _batches.set({**(_batches.get() or {}), normalized: pending})
    try:
        yield
    finally:
        _batches.reset(token)
    if not pending:
        return
    JournalEntry.objects.bulk_create(pending)
    if any(entry.pk is None for entry in pending):  # a backend that returns no ids
        newest = JournalEntry.objects.filter(normalized_name=normalized).aggregate(
            serial=Max("id")
        )["serial"]
    else:
        newest = max(entry.pk for entry in pending)
    # Under the lock, every earlier change of the project committed with a smaller serial.
    Project.objects.filter(normalized_name=normalized).update(
        last_serial=newest, updated=timezone.now()
    )
    catalog_changed()
    if project is not None:
        project.last_serial = newest


def journal_pending(project: Project) -> list[JournalEntry] | None:
    """The entries queued for the project in the open batch, or None outside one."""
    return (_batches.get() or {}).get(project.normalized_name)
