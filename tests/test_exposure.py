"""pypimirror/exposure.py: which addresses reach other hosts, and what must be set for them."""

import pytest

from pypimirror.exposure import (
    DEVELOPMENT_SECRET_KEY,
    address_is_exposed,
    exposure_problems,
    exposure_refusal,
)

LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1:8000",
        "127.1.2.3:80",
        "localhost:8000",
        "[::1]:8000",
        "localhost",
        "unix:/run/pypimirror/web.sock",
        "fd://3",
        "tcp://127.0.0.1:9000",
    ],
)
def test_loopback_sockets_and_descriptors_are_not_exposed(address):
    assert not address_is_exposed(address)


@pytest.mark.parametrize(
    "address",
    [
        "0.0.0.0:8080",
        "[::]:8080",
        ":8080",
        "10.0.0.5:8000",
        "mirror.example.org:80",
        "[2001:db8::1]:80",
    ],
)
def test_other_addresses_are_exposed(address):
    assert address_is_exposed(address)


def problems(bind="0.0.0.0:8080", *, debug=False, secret_key="s" * 50, hosts=("mirror.lan",)):
    return exposure_problems(
        bind=[bind], debug=debug, secret_key=secret_key, allowed_hosts=list(hosts)
    )


def test_a_proper_setup_has_no_problem():
    assert problems() == []


def test_each_development_setting_is_named_with_its_variable():
    assert "DJANGO_DEBUG=false" in " ".join(problems(debug=True))
    assert "DJANGO_SECRET_KEY" in " ".join(problems(secret_key=DEVELOPMENT_SECRET_KEY))
    assert "DJANGO_ALLOWED_HOSTS" in " ".join(problems(hosts=LOOPBACK_HOSTS))
    assert len(problems(debug=True, secret_key=DEVELOPMENT_SECRET_KEY, hosts=LOOPBACK_HOSTS)) == 3


def test_loopback_needs_none_of_it():
    for bind in ("127.0.0.1:8000", "unix:/tmp/web.sock"):
        assert problems(bind, debug=True, secret_key=DEVELOPMENT_SECRET_KEY, hosts=[]) == []


def test_one_exposed_address_among_several_is_enough():
    assert problems("127.0.0.1:8000", debug=True) == []
    both = exposure_problems(
        bind=["127.0.0.1:8000", "0.0.0.0:8080"],
        debug=True,
        secret_key="s" * 50,
        allowed_hosts=["*"],
    )
    assert len(both) == 1


def test_the_refusal_names_the_three_variables(settings):
    settings.DEBUG = True
    settings.SECRET_KEY = DEVELOPMENT_SECRET_KEY
    settings.ALLOWED_HOSTS = LOOPBACK_HOSTS
    message = exposure_refusal(["0.0.0.0:8080"])
    for name in ("DJANGO_ALLOWED_HOSTS", "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "0.0.0.0:8080"):
        assert name in message
    assert exposure_refusal(["127.0.0.1:8000"]) is None
