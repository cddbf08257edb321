import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.network.models import Mirror, MirrorToken, Probe, StatusReport
from apps.network.selectors import probe_location_hub
from apps.network.services import report_record, token_authenticate
from apps.network.tokens import token_digest

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r"pmt_[A-Za-z0-9_-]{43}")


def shown_tokens(response) -> list[str]:
    return [t for m in get_messages(response.wsgi_request) for t in TOKEN.findall(str(m))]


def test_adding_a_mirror_shows_its_token_once(admin_client):
    response = admin_client.post(
        reverse("admin:network_mirror_add"),
        {
            "name": "alpha",
            "country": "FR",
            "tier": "1",
            "public": "on",
            "active": "on",
            "urls-TOTAL_FORMS": "1",
            "urls-INITIAL_FORMS": "0",
            "urls-0-url": "https://Alpha.example.org",
            "urls-0-active": "on",
            "tokens-TOTAL_FORMS": "0",
            "tokens-INITIAL_FORMS": "0",
        },
        follow=True,
    )

    mirror = Mirror.objects.get(name="alpha")
    assert [u.url for u in mirror.urls.all()] == ["https://alpha.example.org/"]
    [token] = TOKEN.findall(response.content.decode())  # on the page the admin goes on to
    assert token_authenticate(token=token) == mirror
    page = admin_client.get(reverse("admin:network_mirror_change", args=[mirror.pk]))
    assert token not in page.content.decode()  # never again
    assert mirror.tokens.get().prefix in page.content.decode()


def test_rotate_token_action_shows_the_new_token_and_revokes_the_old(admin_client, make_mirror):
    alpha, beta = make_mirror("alpha"), make_mirror("beta")

    response = admin_client.post(
        reverse("admin:network_mirror_changelist"),
        {"action": "rotate_token", "_selected_action": [alpha.pk, beta.pk]},
    )

    assert response.status_code == 302
    tokens = shown_tokens(response)
    assert sorted(token_authenticate(token=t).name for t in tokens) == ["alpha", "beta"]
    assert MirrorToken.objects.filter(revoked__isnull=True).count() == 2
    assert set(MirrorToken.objects.values_list("digest", flat=True)) == {
        token_digest(t) for t in tokens
    }


def test_revoke_tokens_action(admin_client, mirror_with_token):
    mirror, token = mirror_with_token

    admin_client.post(
        reverse("admin:network_mirror_changelist"),
        {"action": "revoke_tokens", "_selected_action": [mirror.pk]},
    )

    assert token_authenticate(token=token) is None


def test_reports_and_probes_are_listed_read_only(admin_client, make_mirror):
    mirror = make_mirror("alpha")
    report = report_record(mirror=mirror, state="idle", serial=7)
    probe = Probe.objects.create(url=mirror.urls.get(), location=probe_location_hub())

    for model, row in (("statusreport", report), ("probe", probe)):
        assert admin_client.get(reverse(f"admin:network_{model}_changelist")).status_code == 200
        change = admin_client.get(reverse(f"admin:network_{model}_change", args=[row.pk]))
        assert change.status_code == 200
        assert 'type="submit"' not in change.content.decode().split('id="content-main"')[1]
        assert admin_client.get(reverse(f"admin:network_{model}_add")).status_code == 403
    assert StatusReport.objects.count() == 1


def test_network_settings_lead_to_the_one_row(admin_client):
    response = admin_client.get(reverse("admin:network_networksettings_changelist"))

    assert response.status_code == 302
    assert admin_client.get(response.url).status_code == 200


def test_the_network_admin_needs_staff(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("someone", password="x"))

    response = client.get(reverse("admin:network_mirror_changelist"))

    assert response.status_code == 302
    assert "/login/" in response.url


def test_staff_disable_and_enable_mirrors(admin_client, make_mirror):
    mirror = make_mirror("alpha")
    changelist = reverse("admin:network_mirror_changelist")

    admin_client.post(changelist, {"action": "disable", "_selected_action": [mirror.pk]})
    mirror.refresh_from_db()
    assert (mirror.active, mirror.disabled_by) == (False, "staff")
    assert "admin" in mirror.disabled_reason

    admin_client.post(changelist, {"action": "enable", "_selected_action": [mirror.pk]})
    mirror.refresh_from_db()
    assert (mirror.active, mirror.disabled_reason) == (True, "")
