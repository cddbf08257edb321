"""A node whose blob store is an S3 bucket (moto's S3 server on loopback, the production
settings reading ``PYPIMIRROR_S3_*``): it syncs from a live upstream node, pip installs through
it with the files redirected to presigned URLs or streamed by the node, and verify finds an
object corrupted and one deleted behind its back, and ``--repair`` fetches both again."""

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support import clients
from tests.support.s3 import s3_env
from tests.support.servers import LiveServer, live_server

from .installs import downloaded_files, expected_versions, installed_versions
from .nodes import sync

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class S3Node:
    server: LiveServer
    bucket: str


@contextlib.contextmanager
def s3_node(serve: str, *, upstream: LiveServer, content, s3_server) -> Iterator[S3Node]:
    """A node on a bucket of its own, files served as ``PYPIMIRROR_S3_SERVE`` says, the
    upstream's wheel chain synced into it."""
    bucket = s3_server.bucket_create()
    with live_server(env=s3_env(s3_server, bucket, serve=serve)) as node:
        names = [f"--project={spec.name}" for spec in content.wheel_chain]
        result = sync(node, upstream.url, *names)
        assert result.returncode == 0, result.stdout + result.stderr
        yield S3Node(node, bucket)


@pytest.fixture(scope="module")
def redirect_node(index_server, node_content, s3_server) -> Iterator[S3Node]:
    with s3_node("redirect", upstream=index_server, content=node_content, s3_server=s3_server) as n:
        yield n


@pytest.fixture(scope="module")
def stream_node(index_server, node_content, s3_server) -> Iterator[S3Node]:
    with s3_node("stream", upstream=index_server, content=node_content, s3_server=s3_server) as n:
        yield n


@pytest.mark.parametrize("serve", ["redirect", "stream"])
def test_pip_installs_through_a_node_whose_files_are_in_s3(serve, request, node_content, tmp_path):
    node = request.getfixturevalue(f"{serve}_node").server
    chain = node_content.wheel_chain
    python = clients.new_target_venv(tmp_path / "venv")
    mark = node.log_mark()

    clients.pip_install(python, chain[-1].name, index_url=node.index_url)

    assert installed_versions(python, chain) == expected_versions(chain)
    requests = node.requests_since(mark)
    wheels = sorted(f"{spec.module}-{spec.version}-py3-none-any.whl" for spec in chain)
    assert downloaded_files(requests) == wheels
    statuses = {r.status for r in requests if r.path.endswith(".whl")}
    assert statuses == {302 if serve == "redirect" else 200}  # to S3, or the bytes themselves
    assert not node.store_dir.exists()  # nothing was stored on the node's disk


def test_verify_finds_a_corrupted_and_a_deleted_object_and_repair_fetches_them(
    redirect_node, s3_server
):
    node, bucket = redirect_node.server, redirect_node.bucket
    client = s3_server.client()
    keys = sorted(
        item["Key"]
        for item in client.list_objects_v2(Bucket=bucket, Prefix="packages/")["Contents"]
        if not item["Key"].endswith(".metadata")
    )
    corrupted, deleted = keys[:2]
    good = {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys[:2]}
    client.put_object(Bucket=bucket, Key=corrupted, Body=b"rotten")
    client.delete_object(Bucket=bucket, Key=deleted)

    found = node.manage("verify", "--in-process", check=False)

    assert found.returncode == 1, found.stdout + found.stderr
    assert f"corrupt  {corrupted}" in found.stdout
    assert f"missing  {deleted}" in found.stdout

    repaired = node.manage("verify", "--in-process", "--repair", check=False)

    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "2 restored" in repaired.stdout
    for key in (corrupted, deleted):
        data = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert hashlib.sha256(data).digest() == hashlib.sha256(good[key]).digest()
    assert node.manage("verify", "--in-process", check=False).returncode == 0
