"""Whether a name, version or filename taken from a URL can name a catalog row at all.

Such text is compared with catalog columns. Text no row can hold is "not found" without a
query: longer than its column, or holding NUL, which PostgreSQL text cannot store (the query
would fail with DataError, a 500). pypimirror/middleware.py refuses NUL for every view; these
checks keep the index's own lookups safe without it, and spare the database the query.
"""

from apps.catalog.models import Distribution, Project, Release

MAX_NAME_LENGTH = Project._meta.get_field("normalized_name").max_length
MAX_VERSION_LENGTH = Release._meta.get_field("version").max_length
MAX_FILENAME_LENGTH = Distribution._meta.get_field("filename").max_length


def lookup_text_ok(value: str, *, max_length: int) -> bool:
    """Whether ``value`` could be stored in a column of ``max_length`` characters."""
    return 0 < len(value) <= max_length and "\x00" not in value


def project_name_ok(name: str) -> bool:
    return lookup_text_ok(name, max_length=MAX_NAME_LENGTH)


def version_ok(version: str) -> bool:
    return lookup_text_ok(version, max_length=MAX_VERSION_LENGTH)
