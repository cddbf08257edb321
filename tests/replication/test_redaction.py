"""Secrets in upstream URLs: redacted for showing, stripped for naming, sent as credentials."""

import base64
import logging
import sys

import pytest

from apps.replication.redaction import (
    RedactingFilter,
    credentials_from_url,
    redact_text,
    redact_url,
    strip_credentials,
    upstream_name_for_url,
    url_secrets,
)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:s3cret@host:8080/simple/", "http://***@host:8080/simple/"),
        ("https://TOKEN123@pypi.fury.io/me/", "https://***@pypi.fury.io/me/"),
        ("http://host/simple/?token=abc123", "http://host/simple/?token=***"),
        ("http://u:p@host/?a=1&b=two&flag", "http://***@host/?a=***&b=***&***"),
        ("https://pypi.org/simple/", "https://pypi.org/simple/"),
        ("http://host/f.whl#sha256=ab", "http://host/f.whl#sha256=ab"),
    ],
)
def test_redact_url_masks_userinfo_and_every_query_value(url, shown):
    assert redact_url(url) == shown


def test_strip_credentials_keeps_only_the_place():
    url = "http://user:pw@Host:8080/base/simple/?token=t#frag"
    assert strip_credentials(url) == "http://Host:8080/base/simple/"


@pytest.mark.parametrize(
    "url",
    [
        "http://user:token@127.0.0.1:8080/simple/",
        "http://127.0.0.1:8080/simple/?token=token",
        "http://127.0.0.1:8080?token=token",
    ],
)
def test_generated_name_is_made_of_host_port_and_path_only(url):
    name = upstream_name_for_url(url)
    assert name == "127-0-0-1-8080" or name == "127-0-0-1-8080-simple"
    assert "token" not in name and "user" not in name


def test_redact_text_masks_urls_and_known_secrets_anywhere():
    url = "http://alice:pa%24%24word@host/simple/?api_key=k3y-value"
    text = (
        f"GET {url} failed; retried 'http://alice:pa%24%24word@host/x' with k3y-value "
        "and pa$$word (decoded)"
    )
    shown = redact_text(text, url_secrets(url))
    for secret in ("pa%24%24word", "pa$$word", "k3y-value", "alice"):
        assert secret not in shown
    assert "http://***@host/simple/?api_key=***" in shown


def test_short_secrets_are_masked_in_urls_but_not_in_prose():
    url = "http://u:pw@host/"
    assert redact_text("pw is a word; see http://u:pw@host/a", url_secrets(url)) == (
        "pw is a word; see http://***@host/a"
    )


def test_credentials_from_url_give_basic_auth_and_the_query_for_that_origin_only():
    credentials = credentials_from_url("https://bob:s%3Acret@Index.example:8443/simple/?token=t1")
    assert credentials.authorization == "Basic " + base64.b64encode(b"bob:s:cret").decode()
    assert credentials.applies_to("https", "index.example", 8443)
    assert not credentials.applies_to("https", "files.example", 8443)
    assert not credentials.applies_to("http", "index.example", 8443)
    assert credentials.with_query("") == "token=t1"
    assert credentials.with_query("a=1") == "a=1&token=t1"
    assert credentials.with_query("token=other") == "token=other"


def test_credentials_of_default_ports_and_of_urls_without_any():
    assert credentials_from_url("https://pypi.org/simple/") is None
    credentials = credentials_from_url("https://t0k@pypi.example/simple/")
    assert credentials.applies_to("https", "pypi.example", None)
    assert credentials.applies_to("https", "pypi.example", 443)
    assert credentials.query == ""


def test_logging_filter_redacts_messages_and_tracebacks():
    logger = logging.getLogger("tests.redaction")
    handler_filter = RedactingFilter()
    try:
        raise ValueError("bad http://u:hunter22@host/?token=abcdef")
    except ValueError:
        record = logger.makeRecord(
            logger.name,
            logging.WARNING,
            __file__,
            1,
            "asking %s",
            ("http://u:hunter22@host/simple/?token=abcdef",),
            exc_info=sys.exc_info(),
        )
    assert handler_filter.filter(record)
    shown = logging.Formatter().format(record)
    assert "hunter22" not in shown and "abcdef" not in shown
    assert "asking http://***@host/simple/?token=***" in shown
