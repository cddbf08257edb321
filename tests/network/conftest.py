"""Network tests: mirrors made through the services, as the admin and mirror_add make them."""

import pytest

from apps.network.services import mirror_create, mirror_token_issue


@pytest.fixture
def make_mirror(db):
    """``make_mirror(name, **fields)``: a mirror with one URL (https://<name>.example.org/)."""

    def make(name: str = "alpha", **fields):
        fields.setdefault("url", f"https://{name}.example.org/")
        return mirror_create(name=name, **fields)

    return make


@pytest.fixture
def mirror_with_token(make_mirror):
    """A mirror and its token in clear."""
    mirror = make_mirror("alpha", country="DE")
    _, token = mirror_token_issue(mirror=mirror)
    return mirror, token
