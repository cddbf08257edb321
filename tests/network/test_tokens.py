import pytest
from django.db import connection
from django.utils import timezone

from apps.network.models import MirrorToken
from apps.network.services import (
    mirror_token_issue,
    mirror_token_revoke,
    mirror_token_rotate,
    token_authenticate,
)
from apps.network.tokens import PREFIX, token_digest, token_matches, token_new

pytestmark = pytest.mark.django_db


def test_a_new_token_is_recognizable_and_long():
    token = token_new()

    assert token.startswith(PREFIX)
    assert len(token) >= 40
    assert token != token_new()


def test_token_matches_its_digest_only():
    token = token_new()

    assert token_matches(token, token_digest(token))
    assert not token_matches(token_new(), token_digest(token))


def test_the_token_is_not_stored_in_clear(make_mirror):
    mirror = make_mirror("alpha")
    _row, token = mirror_token_issue(mirror=mirror)
    secret_part = token[len(PREFIX) + 8 :]

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {MirrorToken._meta.db_table}")
        stored = repr(cursor.fetchall())
    assert token not in stored
    assert secret_part not in stored
    assert token_digest(token) in stored


def test_a_token_authenticates_its_mirror_and_records_its_use(make_mirror):
    mirror = make_mirror("alpha")
    row, token = mirror_token_issue(mirror=mirror)
    before = timezone.now()

    assert token_authenticate(token=token) == mirror
    row.refresh_from_db()
    assert row.last_used >= before


@pytest.mark.parametrize("forged", ["", "pmt_", "pmt_" + "A" * 43, "Bearer x", "ü" * 50])
def test_a_forged_token_authenticates_nobody(mirror_with_token, forged):
    assert token_authenticate(token=forged) is None


def test_a_revoked_token_authenticates_nobody(make_mirror):
    row, token = mirror_token_issue(mirror=make_mirror("alpha"))

    mirror_token_revoke(token=row)

    assert token_authenticate(token=token) is None


def test_rotating_revokes_the_old_tokens_and_issues_one_new(make_mirror):
    mirror = make_mirror("alpha")
    _, first = mirror_token_issue(mirror=mirror)
    _, second = mirror_token_issue(mirror=mirror)

    _, new = mirror_token_rotate(mirror=mirror)

    assert token_authenticate(token=first) is None
    assert token_authenticate(token=second) is None
    assert token_authenticate(token=new) == mirror
    assert mirror.tokens.filter(revoked__isnull=True).count() == 1
