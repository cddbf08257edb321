import time
import xmlrpc.client

import pytest
from django.core.cache import cache
from django.test import Client

from apps.catalog import services
from apps.catalog.models import Distribution, JournalEntry, Project, Release
from apps.index.xmlrpc import MAX_REQUEST_SIZE
from tests.support.dists import DistSpec

pytestmark = pytest.mark.django_db

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<methodCall><methodName>&lol9;</methodName><params/></methodCall>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE call [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<methodCall><methodName>changelog_since_serial</methodName>
<params><param><value><string>&secret;</string></value></param></params></methodCall>"""

MALFORMED = [
    b"",
    b"not xml at all",
    b"<methodCall><methodName>changelog_last_serial</methodName>",
    b"<methodCall><params/></methodCall>",
    b"<methodCall><methodName>changelog_since_serial</methodName><params><param>"
    b"<value><int>twelve</int></value></param></params></methodCall>",
    b"<methodCall><methodName>x</methodName>&undefined;</methodCall>",
    b"<methodResponse><fault><value><struct><member><name>a</name><value><int>1</int>"
    b"</value></member></struct></value></fault></methodResponse>",
]


@pytest.fixture(autouse=True)
def empty_render_cache():
    cache.clear()


@pytest.fixture
def catalog(publish):
    """Three projects with history: foo (two releases, one file removed, one yanked), bar
    (removed: deleted), Baz.Qux (blocked)."""
    publish(DistSpec("foo", "1.0"), DistSpec("foo", "2.0"), DistSpec("bar", "1.0"))
    publish(DistSpec("Baz.Qux", "0.1"), DistSpec("Other", "3.0"), sdist=False)
    services.distribution_remove(distribution=Distribution.objects.get(filename="foo-2.0.tar.gz"))
    services.release_set_yanked(
        release=Release.objects.get(version="1.0", project__name="foo"), reason=""
    )
    services.project_remove(project=Project.objects.get(name="bar"))
    services.project_set_blocked(project=Project.objects.get(name="Baz.Qux"), blocked=True)


@pytest.fixture
def proxy(live_server, transactional_db):
    def _proxy(path: str = "/pypi") -> xmlrpc.client.ServerProxy:
        return xmlrpc.client.ServerProxy(live_server.url + path)

    return _proxy


def call(client, body: bytes):
    """POST a raw body; return the parsed result, or raise the Fault the server answered."""
    response = client.post("/pypi", data=body, content_type="text/xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    return xmlrpc.client.loads(response.content)[0][0]


@pytest.mark.parametrize("path", ["/pypi", "/pypi/"])
def test_changelog_last_serial_is_the_newest_journal_entry(catalog, proxy, path):
    assert proxy(path).changelog_last_serial() == JournalEntry.objects.latest("id").id


def test_list_packages_with_serial_lists_served_projects_by_display_name(catalog, proxy):
    packages = proxy().list_packages_with_serial()
    assert packages == {
        "foo": Project.objects.get(name="foo").last_serial,
        "Other": Project.objects.get(name="Other").last_serial,
    }


def test_changelog_since_serial_lists_later_changes_in_order(catalog, proxy):
    entries = list(JournalEntry.objects.order_by("id"))
    middle = entries[len(entries) // 2].id
    changes = proxy().changelog_since_serial(middle)
    assert [change[4] for change in changes] == [e.id for e in entries if e.id > middle]
    for name, version, timestamp, action, serial in changes:
        entry = JournalEntry.objects.get(id=serial)
        assert (name, version, action) == (entry.name, entry.version, entry.action)
        assert timestamp == int(entry.submitted_date.timestamp())
        assert abs(timestamp - time.time()) < 600


def test_changelog_carries_the_actions_a_mirror_acts_on(catalog, proxy):
    changes = proxy("/pypi/").changelog_since_serial(0)
    actions = {(name, version, action) for name, version, _ts, action, _serial in changes}
    assert ("foo", "1.0", "new release") in actions
    assert ("foo", "2.0", "add py3 file foo-2.0-py3-none-any.whl") in actions
    assert ("foo", "2.0", "remove file foo-2.0.tar.gz") in actions
    assert ("foo", "1.0", "yank release") in actions
    assert ("bar", None, "remove project") in actions
    assert ("Baz.Qux", None, "block project") in actions


def test_changelog_since_the_last_serial_is_empty(catalog, proxy):
    server = proxy()
    assert server.changelog_since_serial(server.changelog_last_serial()) == []


def test_package_list_follows_new_publications(catalog, proxy, publish):
    server = proxy()
    assert "new-one" not in server.list_packages_with_serial()
    publish(DistSpec("new-one", "1.0"), sdist=False)
    assert server.list_packages_with_serial()["new-one"] == server.changelog_last_serial()


def test_unknown_method_is_a_fault(catalog, proxy):
    with pytest.raises(xmlrpc.client.Fault) as excinfo:
        proxy().package_releases("foo")
    assert excinfo.value.faultCode == -32601


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("changelog_since_serial", ()),
        ("changelog_since_serial", ("5",)),
        ("changelog_since_serial", (True,)),
        ("changelog_since_serial", (1.5,)),
        ("changelog_since_serial", (1, 2)),
        ("changelog_last_serial", (1,)),
        ("list_packages_with_serial", ("x",)),
    ],
)
def test_wrong_arguments_are_a_fault(catalog, proxy, method, args):
    with pytest.raises(xmlrpc.client.Fault) as excinfo:
        getattr(proxy(), method)(*args)
    assert excinfo.value.faultCode == -32602


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_requests_are_answered_with_a_fault(client, body):
    with pytest.raises(xmlrpc.client.Fault):
        call(client, body)


def test_entity_expansion_is_refused_without_expanding(client):
    started = time.monotonic()
    with pytest.raises(xmlrpc.client.Fault) as excinfo:
        call(client, BILLION_LAUGHS)
    assert excinfo.value.faultCode == -32700
    assert "forbidden" in excinfo.value.faultString
    assert time.monotonic() - started < 5


def test_external_entities_are_refused(client):
    response = client.post("/pypi", data=EXTERNAL_ENTITY, content_type="text/xml")
    assert b"root:" not in response.content
    with pytest.raises(xmlrpc.client.Fault) as excinfo:
        xmlrpc.client.loads(response.content)
    assert excinfo.value.faultCode == -32700
    assert "forbidden" in excinfo.value.faultString


def test_oversized_request_is_a_fault(client):
    padding = b" " * (MAX_REQUEST_SIZE + 1)
    body = b"<methodCall><methodName>changelog_last_serial</methodName>" + padding
    with pytest.raises(xmlrpc.client.Fault):
        call(client, body + b"</methodCall>")


def test_xmlrpc_needs_no_csrf_token(catalog):
    strict = Client(enforce_csrf_checks=True)
    body = xmlrpc.client.dumps((), "changelog_last_serial").encode()
    response = strict.post("/pypi", data=body, content_type="text/xml")
    assert xmlrpc.client.loads(response.content)[0][0] == JournalEntry.objects.latest("id").id


def test_get_is_not_allowed(client):
    response = client.get("/pypi")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("serial", [2**63, -(2**63) - 1, 10**4000])
def test_serial_beyond_64_bits_is_an_invalid_params_fault(client, serial):
    # <i8> carries any number of digits; xmlrpc.client would refuse to send these.
    body = (
        "<methodCall><methodName>changelog_since_serial</methodName><params><param>"
        f"<value><i8>{serial}</i8></value></param></params></methodCall>"
    ).encode()
    with pytest.raises(xmlrpc.client.Fault) as excinfo:
        call(client, body)
    assert excinfo.value.faultCode == -32602
    assert "64 bits" in excinfo.value.faultString


def test_the_largest_64_bit_serial_is_an_empty_changelog(catalog, client):
    body = (
        "<methodCall><methodName>changelog_since_serial</methodName><params><param>"
        f"<value><i8>{2**63 - 1}</i8></value></param></params></methodCall>"
    ).encode()
    assert call(client, body) == []


def test_an_unknown_method_name_is_quoted_short_in_the_fault(client):
    body = f"<methodCall><methodName>{'x' * 5000}</methodName><params/></methodCall>".encode()
    with pytest.raises(xmlrpc.client.Fault) as excinfo:
        call(client, body)
    assert excinfo.value.faultCode == -32601
    assert len(excinfo.value.faultString) < 200
