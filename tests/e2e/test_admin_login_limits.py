"""Admin logins limited by django-axes, through the real login form of a live server (finding 5
of issue 12: 50 wrong passwords in a row, then the right one, were all accepted)."""

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.support.servers import LiveServer, live_server

pytestmark = pytest.mark.e2e

PASSWORD = "the-right-password-7d1e"
LIMIT = 5  # PYPIMIRROR_LOGIN_FAILURE_LIMIT's default
# Addresses of the documentation range: only ever written into X-Forwarded-For, never dialled.
CLIENT_A, CLIENT_B, CLIENT_C = "203.0.113.7", "203.0.113.8", "203.0.113.9"


def _start(env: dict[str, str]) -> Iterator[LiveServer]:
    with live_server(env={"DJANGO_SECURE_COOKIES": "false", **env}) as server:
        server.shell(
            "from django.contrib.auth import get_user_model\n"
            f"get_user_model().objects.create_superuser('admin', '', {PASSWORD!r})\n"
        )
        yield server


@pytest.fixture(scope="module")
def direct() -> Iterator[LiveServer]:
    """Nothing in front: the peer's address counts, X-Forwarded-For is ignored."""
    yield from _start({})


@pytest.fixture(scope="module")
def proxied() -> Iterator[LiveServer]:
    """As behind nginx: requests from loopback are a trusted proxy's."""
    yield from _start({"PYPIMIRROR_TRUSTED_PROXIES": "127.0.0.1,::1"})


@pytest.fixture(autouse=True)
def _unlocked(request) -> Iterator[None]:
    yield
    for name in ("direct", "proxied"):
        if name in request.fixturenames:
            request.getfixturevalue(name).manage("axes_reset")


def log_in(
    server: LiveServer,
    username: str,
    password: str,
    *,
    client_address: str | None = None,
    then: str | None = None,
) -> httpx.Response:
    """The admin's login form, filled in and sent, as a browser does; the answer to the POST,
    or once in, to a GET of ``then``."""
    headers = {"X-Forwarded-For": client_address} if client_address else {}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        form = client.get("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        response = client.post(
            "/admin/login/?next=/admin/",
            data={"csrfmiddlewaretoken": token, "username": username, "password": password},
            headers={"Referer": f"{server.url}/admin/login/"},
        )
        if response.status_code == 302:  # in: the session works for the admin and the API
            assert "Site administration" in client.get("/admin/").text
            assert client.get("/api/v1/sync-runs/").status_code == 200
            if then:
                return client.get(then)
        return response


def assert_refused_as_locked_out(response: httpx.Response) -> None:
    assert response.status_code == 429
    assert "Too many failed logins" in response.text
    assert "sessionid" not in response.cookies


def test_the_sixth_attempt_after_five_wrong_passwords_is_refused_even_when_right(direct):
    wrong = [log_in(direct, "admin", f"guess-{n}") for n in range(LIMIT)]

    assert [r.status_code for r in wrong[:-1]] == [200] * (LIMIT - 1)  # the form, with its error
    assert "Please enter the correct username and password" in wrong[0].text
    assert_refused_as_locked_out(wrong[-1])
    assert_refused_as_locked_out(log_in(direct, "admin", PASSWORD))


def test_the_lockout_page_says_why_for_how_long_and_who_can_lift_it(direct):
    for n in range(LIMIT):
        response = log_in(direct, "admin", f"guess-{n}")

    assert_refused_as_locked_out(response)
    text = re.sub(r"\s+", " ", response.text)
    assert f"after {LIMIT} wrong passwords in a row" in text
    assert "for 30 minutes after the last attempt" in text
    assert "axes_reset_username NAME" in text


def test_axes_reset_lets_the_right_password_in_again(direct):
    for n in range(LIMIT):
        log_in(direct, "admin", f"guess-{n}")
    assert_refused_as_locked_out(log_in(direct, "admin", PASSWORD))

    direct.manage("axes_reset")

    assert log_in(direct, "admin", PASSWORD).status_code == 302


def test_a_success_starts_the_count_again(direct):
    for n in range(LIMIT - 1):
        log_in(direct, "admin", f"guess-{n}")
    assert log_in(direct, "admin", PASSWORD).status_code == 302

    assert log_in(direct, "admin", "one-more-guess").status_code == 200


def test_one_address_trying_many_user_names_is_locked_out_for_all_of_them(direct):
    for n in range(LIMIT):
        log_in(direct, f"user-{n}", "guess")

    assert_refused_as_locked_out(log_in(direct, "admin", PASSWORD))


def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_escape_the_lockout(direct):
    for n in range(LIMIT):
        log_in(direct, f"user-{n}", "guess", client_address=f"198.51.100.{n}")

    assert_refused_as_locked_out(log_in(direct, "admin", PASSWORD, client_address=CLIENT_C))


def test_behind_a_trusted_proxy_each_client_address_counts_apart(proxied):
    for n in range(LIMIT):
        log_in(proxied, f"user-{n}", "guess", client_address=CLIENT_A)

    assert_refused_as_locked_out(log_in(proxied, "admin", PASSWORD, client_address=CLIENT_A))
    assert log_in(proxied, "admin", PASSWORD, client_address=CLIENT_B).status_code == 302


def test_behind_a_trusted_proxy_a_user_name_tried_from_many_addresses_is_locked_out(proxied):
    for n in range(LIMIT):
        log_in(proxied, "admin", f"guess-{n}", client_address=f"198.51.100.{n}")

    assert_refused_as_locked_out(log_in(proxied, "admin", PASSWORD, client_address=CLIENT_C))
    proxied.manage("axes_reset_username", "admin")
    assert log_in(proxied, "admin", PASSWORD, client_address=CLIENT_C).status_code == 302


def test_staff_see_who_is_locked_out_in_the_admin_and_unlock_by_deleting_it(proxied):
    for n in range(LIMIT):
        log_in(proxied, f"user-{n}", "guess", client_address=CLIENT_A)

    attempts = log_in(
        proxied, "admin", PASSWORD, client_address=CLIENT_B, then="/admin/axes/accessattempt/"
    )
    assert attempts.status_code == 200
    assert CLIENT_A in attempts.text
    proxied.shell("from axes.models import AccessAttempt; AccessAttempt.objects.all().delete()")
    assert log_in(proxied, "admin", PASSWORD, client_address=CLIENT_A).status_code == 302
