import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.network.models import Mirror, MirrorURL, ProbeLocation, normalize_base_url
from apps.network.selectors import probe_location_hub

pytestmark = pytest.mark.django_db


def test_a_mirror_url_is_kept_in_one_spelling_with_its_protocol(make_mirror):
    mirror = make_mirror("alpha", url="HTTP://Alpha.Example.org/pypi")

    url = mirror.urls.get()
    assert url.url == "http://alpha.example.org/pypi/"
    assert url.protocol == MirrorURL.Protocol.HTTP


def test_normalize_base_url_keeps_the_path_and_one_slash():
    assert normalize_base_url("https://H.org") == "https://h.org/"
    assert normalize_base_url("https://h.org/a/b//") == "https://h.org/a/b/"


def test_the_same_base_url_in_another_spelling_is_taken(make_mirror):
    mirror = make_mirror("alpha", url="https://alpha.example.org/")

    other = MirrorURL(mirror=mirror, url="https://ALPHA.example.org")
    with pytest.raises(ValidationError) as caught:
        other.full_clean()
    assert "url" in caught.value.message_dict


def test_continent_is_derived_from_the_country(make_mirror):
    assert make_mirror("de", country="DE").continent == "EU"
    assert make_mirror("au", country="au").continent == "OC"
    assert make_mirror("none").continent == ""


def test_a_mirror_follows_a_mirror_or_a_url_never_both(make_mirror):
    first = make_mirror("first")

    with pytest.raises(IntegrityError), transaction.atomic():
        Mirror.objects.create(name="both", follows_mirror=first, follows_url="https://pypi.org")


def test_follows_says_what_the_mirror_syncs_from(make_mirror):
    first = make_mirror("first")

    assert first.follows == "this hub"
    assert make_mirror("second", follows_mirror=first).follows == "first"
    assert make_mirror("third", follows_url="https://pypi.org").follows == "https://pypi.org"


def test_the_hub_probe_location_is_made_by_a_migration():
    hub = ProbeLocation.objects.get(is_hub=True)

    assert hub.name == "hub"
    assert probe_location_hub() == hub


def test_only_one_location_is_the_hub():
    with pytest.raises(IntegrityError), transaction.atomic():
        ProbeLocation.objects.create(name="another", is_hub=True)
