"""Blob storages for tests that must prove what the serving code does with the store."""

from apps.catalog.storage import BlobFileSystemStorage


class OpenCountingBlobStorage(BlobFileSystemStorage):
    """The real blob storage, recording each name it is asked to open (in ``opened``).

    ``opened`` is shared by every instance (the storage handler builds its own); the
    ``counted_opens`` fixture installs this backend and empties the record.
    """

    opened: list[str] = []

    def open(self, name, mode="rb"):
        type(self).opened.append(name)
        return super().open(name, mode)
