"""The embedded default (no DATABASE_URL: SQLite under the data directory) serves pip."""

import pytest

from tests.support import clients

from .installs import expected_versions, installed_versions

pytestmark = pytest.mark.e2e


def test_embedded_default_keeps_its_database_in_sqlite_beside_the_store(embedded_server):
    assert "DATABASE_URL" not in embedded_server.env
    vendor = embedded_server.manage(
        "shell", "-c", "from django.db import connection; print(connection.vendor)"
    )
    assert vendor.stdout.strip().splitlines()[-1] == "sqlite"
    assert embedded_server.sqlite_path.read_bytes()[:16] == b"SQLite format 3\x00"
    assert embedded_server.store_dir.is_dir()
    assert embedded_server.sqlite_path.parent == embedded_server.store_dir.parent


def test_pip_installs_a_chain_from_the_embedded_default_server(
    embedded_server, embedded_content, tmp_path
):
    chain = embedded_content.wheel_chain
    python = clients.new_target_venv(tmp_path / "venv")

    clients.pip_install(
        python, "--only-binary", ":all:", chain[-1].name, index_url=embedded_server.index_url
    )

    assert installed_versions(python, chain) == expected_versions(chain)
