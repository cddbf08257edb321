"""uv installs from a live node, from wheels and from sdists."""

import pytest

from tests.support import clients

from .installs import downloaded_files, expected_versions, installed_versions

pytestmark = pytest.mark.e2e


def test_uv_installs_a_chain_of_wheels_from_the_node(index_server, node_content, tmp_path):
    chain = node_content.wheel_chain
    python = clients.new_target_venv(tmp_path / "venv")
    mark = index_server.log_mark()

    clients.uv_pip_install(
        python, chain[-1].name, index_url=index_server.index_url, cache_dir=tmp_path / "cache"
    )

    assert installed_versions(python, chain) == expected_versions(chain)
    assert downloaded_files(index_server.requests_since(mark)) == sorted(
        f"{spec.module}-{spec.version}-py3-none-any.whl" for spec in chain
    )


def test_uv_installs_a_chain_of_sdists_building_them_with_setuptools_from_the_node(
    index_server, node_content, tmp_path
):
    chain = node_content.sdist_chain
    python = clients.new_target_venv(tmp_path / "venv")
    mark = index_server.log_mark()

    clients.uv_pip_install(
        python, chain[-1].name, index_url=index_server.index_url, cache_dir=tmp_path / "cache"
    )

    assert installed_versions(python, chain) == expected_versions(chain)
    fetched = downloaded_files(index_server.requests_since(mark))
    assert {f"{spec.module}-{spec.version}.tar.gz" for spec in chain} <= set(fetched)
    assert any(name.startswith("setuptools-") and name.endswith(".whl") for name in fetched)


def test_uv_dry_run_resolves_the_chain_from_metadata_files_without_fetching_wheels(
    index_server, node_content, tmp_path
):
    chain = node_content.wheel_chain
    python = clients.new_target_venv(tmp_path / "venv")
    mark = index_server.log_mark()

    result = clients.uv_pip_install(
        python,
        "--dry-run",
        chain[-1].name,
        index_url=index_server.index_url,
        cache_dir=tmp_path / "cache",
    )

    for spec in chain:
        assert f"+ {spec.name.lower()}=={spec.version}" in result.stderr
    requests = index_server.requests_since(mark)
    assert [r.target for r in requests if r.path.endswith(".whl")] == []
    assert len([r for r in requests if r.path.endswith(".metadata")]) == len(chain)
