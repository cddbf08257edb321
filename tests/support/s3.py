"""A real S3-speaking server on loopback (moto's server mode, from PyPI) and blob stores in it.

``moto_server`` starts ``python -m moto.server`` on a free port; ``bucket_create`` makes a
fresh bucket in it. ``s3_blob_storage_settings`` is the ``STORAGES["blobs"]`` entry that puts a
node's blob store in such a bucket, and ``s3_env`` the environment that does it for a live
node (the production settings read it).
"""

import contextlib
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .processes import free_port, process_stop, wait_until_answering

# moto takes any credentials; these only have to be present (and are no real secret).
ACCESS_KEY = "pypimirror-test-key"
SECRET_KEY = "pypimirror-test-secret-never-shown"
REGION = "us-east-1"
STARTUP_TIMEOUT = 30.0


@dataclass(frozen=True)
class S3Server:
    url: str

    def client(self):
        """A boto3 S3 client of this server: what a test uses to reach behind the node."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def bucket_create(self, prefix: str = "blobs") -> str:
        """A new, empty bucket; its name."""
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name


@contextlib.contextmanager
def moto_server() -> Iterator[S3Server]:
    """moto's S3 server in a subprocess on loopback, stopped on exit. Its log (a line per
    request) goes to a file: a pipe nobody reads would fill and stop the server."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="pm-moto-") as scratch:
        log_path = Path(scratch) / "moto.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = S3Server(url=f"http://127.0.0.1:{port}")
        try:
            wait_until_answering(
                process,
                f"{server.url}/moto-api/",
                name="moto server",
                log=log_path,
                timeout=STARTUP_TIMEOUT,
            )
            yield server
        finally:
            process_stop(process)


def s3_blob_storage_settings(server: S3Server, bucket: str, *, serve: str = "redirect") -> dict:
    """``STORAGES["blobs"]`` for a blob store in ``bucket``, as the production settings make it."""
    return {
        "BACKEND": "apps.catalog.storage_s3.BlobS3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": server.url,
            "region_name": REGION,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "serve": serve,
            "url_expiry": 300,
        },
    }


def s3_env(server: S3Server, bucket: str, *, serve: str = "redirect") -> dict[str, str]:
    """A live node's environment for a blob store in ``bucket`` (credentials as boto3 reads
    them, from the environment)."""
    return {
        "PYPIMIRROR_S3_BUCKET": bucket,
        "PYPIMIRROR_S3_ENDPOINT_URL": server.url,
        "PYPIMIRROR_S3_REGION": REGION,
        "PYPIMIRROR_S3_SERVE": serve,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }


def blobs_options(settings, **options) -> None:
    """The node's blob store as published to, with ``options`` changed."""
    blobs = settings.STORAGES["blobs"]
    settings.STORAGES = {
        **settings.STORAGES,
        "blobs": {**blobs, "OPTIONS": {**blobs["OPTIONS"], **options}},
    }


def closed_port_url() -> str:
    """A URL of loopback where nothing listens (an S3 that is down)."""
    return f"http://127.0.0.1:{free_port()}"
