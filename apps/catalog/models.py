"""What the node holds: projects, their releases and files, and the serial changelog."""

from django.db import models


class IndexStatus(models.TextChoices):
    """PEP 792 project status markers; a quarantined project offers no files."""

    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"
    QUARANTINED = "quarantined", "Quarantined"
    DEPRECATED = "deprecated", "Deprecated"


class Project(models.Model):
    IndexStatus = IndexStatus

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DELETED = "deleted", "Deleted"
        BLOCKED = "blocked", "Blocked (taken down)"

    name = models.CharField(max_length=255, help_text="Display name, as the project spells it.")
    normalized_name = models.CharField(max_length=255, unique=True, help_text="PEP 503 name.")
    last_serial = models.BigIntegerField(default=0, db_index=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.ACTIVE, db_index=True)
    # Who may change it (invariant 6): "local", or "upstream:<id>" (sources.py). Kept when the
    # project is deleted, so a name taken down at its source is not taken over by another.
    source = models.CharField(max_length=64, default="local", db_index=True)
    # PEP 792: the status the index announces (the upstream's, for a mirrored project), apart
    # from ``status``, which is this node's own state of the row.
    index_status = models.CharField(
        max_length=16, choices=IndexStatus, default=IndexStatus.ACTIVE, db_index=True
    )
    index_status_reason = models.TextField(blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["normalized_name"]

    def __str__(self) -> str:
        return self.name


class Release(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="releases")
    version = models.CharField(max_length=255, help_text="Verbatim, even when PEP 440 rejects it.")
    yanked = models.BooleanField(default=False)
    yanked_reason = models.TextField(blank=True, default="")
    # Core metadata fields of the release (summary, requires_dist, ...), as the JSON API's info.
    metadata = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="release_unique_version")
        ]
        ordering = ["project", "created", "id"]
        indexes = [
            # The admin's "yanked" filter, newest first: the few yanked releases alone.
            models.Index(fields=["id"], condition=models.Q(yanked=True), name="release_yanked"),
        ]

    def __str__(self) -> str:
        return f"{self.project.name} {self.version}"


class Distribution(models.Model):
    class PackageType(models.TextChoices):
        WHEEL = "bdist_wheel", "Wheel"
        SDIST = "sdist", "Source distribution"
        EGG = "bdist_egg", "Egg"
        WININST = "bdist_wininst", "Windows installer"
        MSI = "bdist_msi", "Windows MSI"
        RPM = "bdist_rpm", "RPM"
        DUMB = "bdist_dumb", "Dumb binary"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="distributions")
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="distributions")
    filename = models.CharField(max_length=255, unique=True)
    packagetype = models.CharField(max_length=32, choices=PackageType)
    python_version = models.CharField(max_length=64, default="source")
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    md5 = models.CharField(max_length=32)
    blake2b_256 = models.CharField(max_length=64)
    requires_python = models.CharField(max_length=255, blank=True, default="")
    upload_time = models.DateTimeField()
    yanked = models.BooleanField(default=False)
    yanked_reason = models.TextField(blank=True, default="")
    core_metadata_sha256 = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (None: no metadata)
    # PEP 740: the sha256 of the file's provenance document, stored by it (blobstore.py).
    provenance_sha256 = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (None: no provenance)
    blob_path = models.CharField(max_length=512, unique=True)

    class Meta:
        ordering = ["project", "release__created", "filename"]
        indexes = [
            models.Index(fields=["project", "filename"]),
            # The admin's filters (migration 0005): a rare type, the yanked files, an upload
            # date range are found without reading 3.5 M rows.
            models.Index(fields=["packagetype"], name="distribution_packagetype"),
            models.Index(fields=["upload_time"], name="distribution_upload_time"),
            models.Index(
                fields=["id"], condition=models.Q(yanked=True), name="distribution_yanked"
            ),
        ]

    def __str__(self) -> str:
        return self.filename

    @property
    def metadata_blob_path(self) -> str | None:
        return f"{self.blob_path}.metadata" if self.core_metadata_sha256 else None


class JournalEntry(models.Model):
    """One change; its id is the serial (PyPI's changelog)."""

    name = models.CharField(max_length=255, help_text="Project display name at the time.")
    normalized_name = models.CharField(max_length=255, db_index=True)
    version = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001 (None: project-wide)
    action = models.TextField()
    submitted_date = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"#{self.pk} {self.name} {self.version or ''} {self.action}"

    @property
    def serial(self) -> int:
        return self.pk


class Takedown(models.Model):
    """Staff took a project, a release or a file down, and why (takedowns.py).

    Kept after a lift (who lifted it and when), so the history stays. Who acted is text, not a
    user: the catalog runs without django.contrib.auth (``PYPIMIRROR_APPS=domain``), and the
    command line has no user. The version and filename are text too: the rows they named are
    removed while the takedown stands.
    """

    class Scope(models.TextChoices):
        PROJECT = "project", "Project"
        RELEASE = "release", "Release"
        FILE = "file", "File"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="takedowns")
    scope = models.CharField(max_length=16, choices=Scope)
    version = models.CharField(max_length=255, blank=True, default="")
    filename = models.CharField(max_length=255, blank=True, default="", db_index=True)
    reason = models.TextField()
    created_by = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    lifted_by = models.CharField(max_length=255, blank=True, default="")
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # What a sync and a file's 410 ask: the standing takedowns of some projects.
            models.Index(
                fields=["project"],
                condition=models.Q(lifted_at__isnull=True),
                name="takedown_standing",
            )
        ]

    def __str__(self) -> str:
        target = {
            self.Scope.PROJECT: "",
            self.Scope.RELEASE: f" {self.version}",
            self.Scope.FILE: f" {self.filename}",
        }[self.scope]
        return f"{self.project.name}{target}"

    @property
    def standing(self) -> bool:
        return self.lifted_at is None


class TakedownFile(models.Model):
    """A file a release or file takedown removed: what its row was, so that a lift puts it back
    from the blob still in the store (no download), its URLs answer 410 meanwhile, and verify
    does not take the blob for an orphan."""

    takedown = models.ForeignKey(Takedown, on_delete=models.CASCADE, related_name="files")
    filename = models.CharField(max_length=255, db_index=True)
    sha256 = models.CharField(max_length=64)
    blob_path = models.CharField(max_length=512, db_index=True)
    # The removed row's fields and its release's (takedowns.py, ``_snapshot``).
    row = models.JSONField(default=dict)

    def __str__(self) -> str:
        return self.filename
