"""Accept parsing and format choice (PEP 691), without a database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.exceptions import NotAcceptable
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.index.negotiation import (
    MAX_ACCEPT_LENGTH,
    MAX_MEDIA_RANGES,
    MediaRange,
    QualityContentNegotiation,
    parse_accept,
    select_offer,
)
from apps.index.renderers import SimpleHTMLRenderer, SimpleJSONRenderer, TextHTMLRenderer
from tests.support.fuzz import FUZZ, PARSE_BUDGET, assert_all_fast, grammar_text, timed_call

JSON = "application/vnd.pypi.simple.v1+json"
HTML = "application/vnd.pypi.simple.v1+html"
TEXT = "text/html"
# The offers of the simple views, in their order: text/html, v1+html, v1+json.
OFFERS = [
    (TEXT,),
    (HTML, "application/vnd.pypi.simple.latest+html"),
    (JSON, "application/vnd.pypi.simple.latest+json"),
]
PIP_ACCEPT = f"{JSON}, {HTML}; q=0.1, {TEXT}; q=0.01"
UV_ACCEPT = f"{JSON}, {HTML};q=0.2, {TEXT};q=0.01"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def choose(accept: str) -> str | None:
    index = select_offer(parse_accept(accept), OFFERS)
    return None if index is None else OFFERS[index][0]


def test_parse_reads_q_values_and_defaults_to_one():
    assert parse_accept(f"{JSON}, {HTML};q=0.5") == [
        MediaRange("application", "vnd.pypi.simple.v1+json", 1.0),
        MediaRange("application", "vnd.pypi.simple.v1+html", 0.5),
    ]


def test_parse_tolerates_whitespace_and_case():
    assert parse_accept("  Text/HTML ;  Q=0.3 ,\t*/* ; q=0.1 ") == [
        MediaRange("text", "html", 0.3),
        MediaRange("*", "*", 0.1),
    ]


def test_parse_keeps_wildcards():
    ranges = parse_accept("application/*;q=0.4, */*")
    assert [(r.type, r.subtype, r.specificity) for r in ranges] == [
        ("application", "*", 1),
        ("*", "*", 0),
    ]


@pytest.mark.parametrize("q", ["abc", "1.5", "-1", "0.1234", "", "1.0001", "2"])
def test_parse_drops_a_range_with_a_bad_q_value(q):
    assert parse_accept(f"{JSON};q={q}, {TEXT}") == [MediaRange("text", "html", 1.0)]


@pytest.mark.parametrize("bad", ["text", "*/html", "text/html/x", "/html", "te xt/html", ";q=1"])
def test_parse_skips_malformed_ranges(bad):
    assert parse_accept(f"{bad}, {TEXT};q=0.5") == [MediaRange("text", "html", 0.5)]


def test_parse_ignores_media_type_parameters_other_than_q():
    assert parse_accept(f"{TEXT};charset=utf-8;q=0.2;ext=1") == [MediaRange("text", "html", 0.2)]


def test_parse_bounds_the_number_of_ranges():
    assert len(parse_accept(", ".join([TEXT] * 1000))) == MAX_MEDIA_RANGES


def test_parse_cuts_an_overlong_header_at_a_comma():
    ranges = parse_accept(f"{JSON}, " + "x" * 10_000)
    assert ranges == [MediaRange("application", "vnd.pypi.simple.v1+json", 1.0)]


def test_pip_header_gets_json():
    assert choose(PIP_ACCEPT) == JSON


def test_uv_header_gets_json():
    assert choose(UV_ACCEPT) == JSON


def test_browser_header_gets_text_html():
    assert choose(BROWSER_ACCEPT) == TEXT


def test_no_accept_header_gets_text_html():
    assert choose("") == TEXT


def test_any_type_gets_text_html():
    assert choose("*/*") == TEXT


def test_header_of_only_malformed_ranges_counts_as_any_type():
    assert choose("garbage, text/html;q=nope") == TEXT


def test_higher_q_wins_over_server_preference():
    assert choose(f"{TEXT};q=0.1, {JSON};q=0.9") == JSON


def test_lower_q_json_loses_to_html():
    assert choose(f"{JSON};q=0.1, {HTML}") == HTML


def test_server_preference_breaks_equal_q():
    assert choose(f"{JSON}, {HTML}, {TEXT}") == TEXT
    assert choose(f"{JSON}, {HTML}") == HTML


def test_explicit_type_beats_wildcard_at_equal_q():
    assert choose(f"*/*, {JSON}") == JSON


def test_application_wildcard_excludes_text_html():
    assert choose("application/*") == HTML


def test_q_zero_makes_a_type_unacceptable_despite_a_wildcard():
    assert choose(f"{TEXT};q=0, */*") == HTML
    assert choose(f"{TEXT};q=0, {HTML};q=0, */*;q=0.5") == JSON


def test_most_specific_range_decides_a_types_q():
    # text/* would give text/html 0.9, but text/html itself says 0.1.
    assert choose(f"text/*;q=0.9, {TEXT};q=0.1, {JSON};q=0.5") == JSON


def test_latest_alias_selects_the_v1_offer():
    assert choose("application/vnd.pypi.simple.latest+json") == JSON
    assert choose("application/vnd.pypi.simple.latest+html") == HTML


def test_nothing_acceptable_gives_none():
    assert choose("application/json, image/png") is None
    assert choose("*/*;q=0") is None


RENDERERS = [TextHTMLRenderer(), SimpleHTMLRenderer(), SimpleJSONRenderer()]


def drf_request(query: str = "", **meta) -> Request:
    return Request(APIRequestFactory().get(f"/simple/{query}", **meta))


def select(request: Request):
    renderer, media_type = QualityContentNegotiation().select_renderer(request, RENDERERS)
    return type(renderer), media_type


def test_select_renderer_answers_the_concrete_type_for_an_alias():
    request = drf_request(HTTP_ACCEPT="application/vnd.pypi.simple.latest+json")
    assert select(request) == (SimpleJSONRenderer, JSON)


def test_format_query_wins_over_accept():
    request = drf_request(f"?format={JSON}", HTTP_ACCEPT=TEXT)
    assert select(request) == (SimpleJSONRenderer, JSON)


def test_format_query_accepts_an_unencoded_plus():
    request = drf_request(f"?format={JSON}")  # "+" decodes to a space in a query string
    assert select(request) == (SimpleJSONRenderer, JSON)


def test_format_query_takes_aliases_and_any_case():
    request = drf_request("?format=Application/Vnd.PyPI.Simple.Latest%2BHTML")
    assert select(request) == (SimpleHTMLRenderer, HTML)


def test_unknown_format_query_is_not_acceptable_and_lists_the_offers():
    with pytest.raises(NotAcceptable) as raised:
        select(drf_request("?format=json"))
    message = str(raised.value.detail)
    assert "'json'" in message
    assert all(name in message for name in (TEXT, HTML, JSON))


def test_unacceptable_accept_is_not_acceptable_and_lists_the_offers():
    with pytest.raises(NotAcceptable) as raised:
        select(drf_request(HTTP_ACCEPT="application/json"))
    assert JSON in str(raised.value.detail)


# Fuzzing (issue 12): no exception, no input over 10 ms, only well-formed ranges kept.
HOSTILE_ACCEPT = [
    "a/" + "b" * 200 + " x",
    "text/html;" + ";" * 4000,
    "text/html;" + "q=" * 4000,
    "*/*;q=" + "0" * 8000,
    "," * 8000,
    " " * 8000 + TEXT,
    f"{TEXT};q=0.5, " * 400,
    "a" * MAX_ACCEPT_LENGTH + "/" + "b" * 4000,
    "a/" * 4000,
    "*/" * 4000 + "*",
    f"{JSON};" + "x=" + '"' * 8000,
    "text/html;q=1." + "0" * 8000,
]
ACCEPT_PIECES = [
    "application", "text", "vnd.pypi.simple.v1+json", "html", "*", "/", ";", "q", "=", "0.5",
    "1", "0", ".", ",", " ", "\t", "\"", "charset=utf-8", "\x00", "é",
]  # fmt: skip


def accept_choice(header: str) -> int | None:
    """What the view does with an Accept header (uncached, to time the parsing itself)."""
    ranges = parse_accept(header)
    assert len(ranges) <= MAX_MEDIA_RANGES
    assert all(0.0 <= r.q <= 1.0 and r.specificity in (0, 1, 2) for r in ranges)
    return select_offer(ranges, OFFERS)


def test_no_hostile_accept_header_takes_over_10_ms():
    assert_all_fast(accept_choice, HOSTILE_ACCEPT)


@FUZZ
@given(header=grammar_text(ACCEPT_PIECES))
def test_fuzz_accept_never_raises_and_stays_fast(header):
    choice, seconds = timed_call(accept_choice, header)
    assert seconds <= PARSE_BUDGET, (seconds, header[:80])
    assert choice is None or 0 <= choice < len(OFFERS)


@FUZZ
@given(
    ranges=st.lists(
        st.tuples(st.sampled_from([TEXT, HTML, JSON, "*/*", "text/*"]), st.integers(0, 1000)),
        min_size=1,
        max_size=MAX_MEDIA_RANGES,
    )
)
def test_fuzz_well_formed_accept_headers_are_read_whole(ranges):
    header = ", ".join(f"{media};q={q / 1000:.3f}".rstrip("0").rstrip(".") for media, q in ranges)
    parsed = parse_accept(header)
    assert [(f"{r.type}/{r.subtype}", r.q) for r in parsed] == [
        (media, q / 1000) for media, q in ranges
    ]
