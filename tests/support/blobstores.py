"""One view of a blob store for tests that hold for every storage: on local disk or in an S3
bucket, a test reads, writes and deletes the stored bytes behind the node's back the same way
(``store`` fixture, tests/conftest.py)."""

import os
import time
from pathlib import Path


class DiskStore:
    """The blob store's directory."""

    kind = "disk"

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, name: str) -> bytes | None:
        path = self.root / name
        return path.read_bytes() if path.is_file() else None

    def write(self, name: str, data: bytes, *, age_hours: float = 0) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if age_hours:
            then = time.time() - age_hours * 3600
            os.utime(path, (then, then))

    def delete(self, name: str) -> None:
        (self.root / name).unlink()

    def names(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())


class S3Store:
    """A bucket of the loopback S3 server, reached with boto3 as an operator would."""

    kind = "s3"

    def __init__(self, client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def read(self, name: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=name)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def write(self, name: str, data: bytes, *, age_hours: float = 0) -> None:
        """``age_hours`` cannot be honoured: S3 sets an object's LastModified itself."""
        self.client.put_object(Bucket=self.bucket, Key=name, Body=data)

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=name)

    def names(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))
