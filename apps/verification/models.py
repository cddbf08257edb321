"""Verify runs (the store re-hashed against the catalog) and what they found."""

from django.db import models


class VerifyRun(models.Model):
    """One pass over the catalog's files, resumable: ``cursor`` is the last Distribution id
    whose files (and every lower id's) were checked, saved per batch; a run killed midway is
    ``running`` still, and the next verify picks it up from there. The orphan walk that follows
    saves ``orphans_cursor`` (the last store folder walked) the same way."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        COMMAND = "command", "Command"
        SCHEDULE = "schedule", "Schedule"

    state = models.CharField(max_length=16, choices=State, default=State.RUNNING, db_index=True)
    trigger = models.CharField(max_length=16, choices=Trigger, default=Trigger.COMMAND)
    repair = models.BooleanField(default=False)
    delete_orphans = models.BooleanField(default=False)
    # Normalized names; empty: the whole catalog (and the orphan walk, which needs it whole).
    projects = models.JSONField(default=list, blank=True)
    started = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    finished = models.DateTimeField(null=True, blank=True)
    cursor = models.BigIntegerField(default=0, help_text="Last Distribution id checked.")
    files_total = models.IntegerField(default=0, help_text="Files to check when it started.")
    files_checked = models.IntegerField(default=0)
    bytes_checked = models.BigIntegerField(default=0)
    orphans_walked = models.BooleanField(default=False)
    orphans_cursor = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="Last store folder the orphan walk finished (e.g. packages/3f): a run stopped "
        "in the walk goes on after it.",
    )
    findings_count = models.IntegerField(default=0)
    resumed = models.IntegerField(default=0, help_text="Times it was picked up after a stop.")
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started"]

    def __str__(self) -> str:
        return f"verify #{self.pk} ({self.state})"


class Finding(models.Model):
    """A blob that is not what the catalog says: missing, corrupt, or named by no row."""

    class Kind(models.TextChoices):
        MISSING = "missing", "Missing blob"
        CORRUPT = "corrupt", "Corrupt blob"
        ORPHAN = "orphan", "Orphaned blob"

    class Blob(models.TextChoices):
        FILE = "file", "Distribution file"
        METADATA = "metadata", "Core metadata (PEP 658)"
        PROVENANCE = "provenance", "Provenance (PEP 740)"

    class Repair(models.TextChoices):
        NONE = "", "Not repaired"
        RESTORED = "restored", "Restored from the upstream"
        HIDDEN = "hidden", "Hidden from the index (journaled)"
        DELETED = "deleted", "Deleted (orphan)"
        FAILED = "failed", "Repair failed"

    run = models.ForeignKey(VerifyRun, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(max_length=16, choices=Kind, db_index=True)
    blob = models.CharField(max_length=16, choices=Blob, default=Blob.FILE)
    path = models.CharField(max_length=1024)
    # The catalog's file: kept by id and name, as the row may go (hidden, removed upstream).
    distribution_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    project = models.CharField(max_length=255, blank=True, default="", db_index=True)
    filename = models.CharField(max_length=255, blank=True, default="")
    expected_sha256 = models.CharField(max_length=64, blank=True, default="")
    actual_sha256 = models.CharField(max_length=64, blank=True, default="")
    expected_size = models.BigIntegerField(null=True, blank=True)
    actual_size = models.BigIntegerField(null=True, blank=True)
    found = models.DateTimeField(auto_now_add=True)
    repair = models.CharField(max_length=16, choices=Repair, default=Repair.NONE, blank=True)
    repair_detail = models.TextField(blank=True, default="")
    repaired = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-found", "id"]
        constraints = [
            # A batch checked again after a kill records nothing twice.
            models.UniqueConstraint(fields=["run", "path"], name="finding_unique_path")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.path}"


class VerifyBatch(models.Model):
    """A range of Distribution ids handed to one task (or thread); ``done`` once checked. The
    run's cursor moves over the done batches in id order, so batches may finish in any order."""

    run = models.ForeignKey(VerifyRun, on_delete=models.CASCADE, related_name="batches")
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    done = models.BooleanField(default=False)
    files = models.IntegerField(default=0)
    bytes = models.BigIntegerField(default=0)
    # Why its task could not check it (the store stopped answering, say): the run then fails
    # rather than wait for a batch no worker will finish.
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["first_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "first_id"], name="verify_batch_unique")
        ]

    def __str__(self) -> str:
        return f"batch {self.first_id}..{self.last_id} of verify #{self.run_id}"
