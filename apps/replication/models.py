"""What a node follows (upstreams), each sync of one (runs), and how far each project got."""

from django.db import models


class Upstream(models.Model):
    class Protocol(models.TextChoices):
        UNKNOWN = "", "Not yet detected"
        PYPI_JSON = "pypi-json", "PyPI JSON (per-project serials)"
        XMLRPC = "xmlrpc", "XML-RPC changelog"
        SIMPLE = "simple", "Simple index only (PEP 503/691)"

    name = models.SlugField(max_length=100, unique=True)
    url = models.URLField(
        max_length=500,
        unique=True,
        help_text="Base URL (https://pypi.org) or simple index URL (http://host:8080/simple/).",
    )
    enabled = models.BooleanField(default=True)
    protocol = models.CharField(
        max_length=16, choices=Protocol, default=Protocol.UNKNOWN, blank=True, editable=False
    )
    last_serial = models.BigIntegerField(
        default=0, editable=False, help_text="The upstream's serial at the last complete plan."
    )
    # The ETag of the project listing that plan read, when it gave every project's serial: a
    # listing unchanged since (HTTP 304) is then planned without reading it again.
    listing_etag = models.CharField(max_length=200, default="", blank=True, editable=False)
    # When the upstream last answered that it has no XML-RPC changelog (HTTP 404, 405 or 501,
    # as a static mirror does): its plans read the listing without asking again for a day.
    changelog_missing_since = models.DateTimeField(null=True, blank=True, editable=False)
    # Partial mirrors: what of the upstream this node takes (rules.py gives the format).
    rules = models.JSONField(
        default=dict,
        blank=True,
        help_text="Which projects, releases and files to mirror (JSON; {} for everything).",
    )
    # The fingerprint of the rules the last complete plan applied: when the rules differ, the
    # next plan visits every project they may have changed (planner).
    rules_applied = models.CharField(max_length=64, default="", blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def source(self) -> str:
        """The key of the projects this upstream owns (apps/catalog/sources.py)."""
        return f"upstream:{self.pk}"


class SyncRun(models.Model):
    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        ADMIN = "admin", "Admin (sync now)"
        COMMAND = "command", "Command line"

    class State(models.TextChoices):
        PLANNING = "planning", "Planning"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partly failed"
        FAILED = "failed", "Failed"

    upstream = models.ForeignKey(Upstream, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=16, choices=Trigger)
    state = models.CharField(max_length=16, choices=State, default=State.PLANNING, db_index=True)
    started = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True, help_text="The last time a project finished.")
    finished = models.DateTimeField(null=True, blank=True)
    serial_from = models.BigIntegerField(default=0)
    serial_to = models.BigIntegerField(null=True, blank=True)
    projects_planned = models.PositiveIntegerField(default=0)
    projects_done = models.PositiveIntegerField(default=0)
    projects_failed = models.PositiveIntegerField(default=0)
    projects_skipped = models.PositiveIntegerField(default=0)
    # Listed upstream, but owned by another source here: left as they are (invariant 6).
    projects_shadowed = models.PositiveIntegerField(default=0)
    files_fetched = models.PositiveIntegerField(default=0)
    bytes_fetched = models.BigIntegerField(default=0)
    # A run-wide error (upstream unusable); per-project errors are in ``errors``.
    error = models.TextField(blank=True, default="")
    errors = models.JSONField(default=list, blank=True, help_text="[{project, error}, ...]")
    shadowed = models.JSONField(default=list, blank=True, help_text="[{project, owner}, ...]")

    class Meta:
        ordering = ["-started"]
        indexes = [
            # The admin's list (newest first) and its date filter.
            models.Index(fields=["started"], name="sync_run_started"),
            # Each upstream's last run and last successful run (selectors.upstream_status_list:
            # /metrics, the admin's home page, the API).
            models.Index(fields=["upstream", "started"], name="sync_run_upstream_started"),
            models.Index(
                fields=["upstream", "state", "finished"], name="sync_run_upstream_finished"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.upstream} #{self.pk} ({self.state})"

    @property
    def projects_finished(self) -> int:
        return (
            self.projects_done
            + self.projects_failed
            + self.projects_skipped
            + self.projects_shadowed
        )


class ProjectSyncState(models.Model):
    """Per upstream project: the upstream serial reached, failures, and a lease for one worker."""

    upstream = models.ForeignKey(Upstream, on_delete=models.CASCADE, related_name="projects")
    normalized_name = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    serial_reached = models.BigIntegerField(default=0)
    serial_wanted = models.BigIntegerField(default=0)
    # False once the upstream's listing no longer names the project: its page is then visited
    # only to confirm the removal.
    listed = models.BooleanField(default=True)
    last_error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    next_retry = models.DateTimeField(null=True, blank=True)
    # Conditional requests to simple-only upstreams.
    etag = models.CharField(max_length=255, blank=True, default="")
    last_modified = models.CharField(max_length=64, blank=True, default="")
    # The per-project lock: a lease, so a killed worker's lock expires by itself.
    lease_owner = models.CharField(max_length=64, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["upstream", "normalized_name"], name="project_sync_state_unique"
            )
        ]
        indexes = [
            models.Index(fields=["upstream", "next_retry"]),
            # What a plan looks up when the upstream's serial has not moved (planner): small
            # partial indexes, so a no-op sync costs the same at 20 or 20,000 projects.
            models.Index(
                fields=["upstream"],
                condition=models.Q(serial_reached__lt=models.F("serial_wanted")),
                name="sync_state_behind",
            ),
            models.Index(
                fields=["upstream"], condition=models.Q(listed=False), name="sync_state_unlisted"
            ),
            # The admin's search by a name's beginning, over every upstream: LIKE 'name%' on
            # PostgreSQL whatever the database's collation (a plain index on SQLite).
            models.Index(
                fields=["normalized_name"],
                opclasses=["varchar_pattern_ops"],
                name="sync_state_name_pattern",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.upstream}:{self.normalized_name}@{self.serial_reached}"


class RunProject(models.Model):
    """A project a run planned, and what became of it on that run: each is counted once, so a
    batch delivered again (its worker died) neither counts twice nor redoes what is done, and a
    run whose workers are gone can name the projects it lost."""

    class Outcome(models.TextChoices):
        PENDING = "", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        SHADOWED = "shadowed", "Shadowed"
        LOST = "lost", "Lost (its worker stopped)"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="planned")
    state = models.ForeignKey(ProjectSyncState, on_delete=models.CASCADE, related_name="runs")
    outcome = models.CharField(max_length=16, choices=Outcome, default="", blank=True)
    # How often its batch came again with the project still pending: a batch that kills its
    # worker every time is not delivered forever (run_projects.py).
    redeliveries = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "state"], name="run_project_unique")]

    def __str__(self) -> str:
        return f"run #{self.run_id}: {self.state_id} {self.outcome or 'pending'}"
