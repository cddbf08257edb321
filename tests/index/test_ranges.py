"""The Range parser (apps/index/ranges.py) without a server: RFC 9110 semantics, its bounds,
and a hypothesis fuzz test (no exception but Unsatisfiable, no input over 10 ms)."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from apps.index.ranges import (
    MAX_HEADER_LENGTH,
    MAX_POSITION_DIGITS,
    MAX_RANGES,
    ByteRange,
    Unsatisfiable,
    parse_range,
)
from tests.support.fuzz import FUZZ, PARSE_BUDGET, assert_all_fast, grammar_text, timed_call

SIZE = 1000

# Issue 12, finding 1: 17 s of a worker at 3.2 KB, some 5 minutes near 8 KB.
FINDING_1 = "bytes=" + " " * 1600 + "-" + " " * 1600 + "x"
FINDING_1_8K = "bytes=" + " " * 4000 + "-" + " " * 4000 + "x"
# Inputs shaped against this parser and the one before it, shortest first: a backtracking
# parser fails on the first ones at once rather than spending minutes on the last.
HOSTILE = [
    "bytes=" + " " * 200 + "-" + " " * 200 + "x",
    "bytes=" + " " * 500 + "-" + " " * 500 + "x",
    "bytes=" + "\t" * 1000 + "0-1",
    "bytes=" + "1" * MAX_POSITION_DIGITS + "-" + "1" * MAX_POSITION_DIGITS,
    "bytes=" + "0-1, " * MAX_RANGES,
    "bytes=" + "0-1," * (MAX_RANGES + 1),
    "bytes=" + " -" * 500,
    "bytes=" + "0" * 1000,
    FINDING_1,
    FINDING_1_8K,
    "bytes=" + "9" * 5000 + "-",
    "bytes=-" + "9" * 5000,
    "bytes=" + "0-1," * 2000,
    "bytes=" + "," * 8000,
    "=" * 8000,
    " " * 8000 + "bytes=0-1",
]
PIECES = ["bytes", "BYTES", "items", "=", "-", ",", " ", "\t", "0", "1", "9", "42", "x", ";", "٣"]


def range_headers() -> st.SearchStrategy[str]:
    """Headers shaped by the grammar, with long whitespace and digit runs around the parts and
    odd characters after them: the shape of finding 1, and of its neighbours."""
    space = st.builds(lambda c, n: c * n, st.sampled_from([" ", "\t"]), st.integers(0, 600))
    digits = st.one_of(st.just(""), st.text(alphabet="0123456789", max_size=30))
    spec = st.builds(
        lambda *parts: "".join(parts), space, digits, space, st.just("-"), space, digits, space
    )
    return st.builds(
        lambda unit, specs, tail: unit + ",".join(specs) + tail,
        st.sampled_from(["bytes=", "BYTES = ", "bytes =", "items="]),
        st.one_of(st.lists(spec, min_size=1, max_size=1), st.lists(spec, max_size=20)),
        st.sampled_from(["", "x", ";", "٣", "\x00", ","]),
    )


def parse(header: str, size: int = SIZE) -> ByteRange | None:
    return parse_range(header, size)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", ByteRange(0, 9)),
        ("bytes=990-", ByteRange(990, 999)),
        ("bytes=-10", ByteRange(990, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
        ("bytes=5-99999999", ByteRange(5, 999)),
        ("BYTES = 3 - 4", ByteRange(3, 4)),
        ("bytes=0-9,", ByteRange(0, 9)),  # an empty list element does not count
    ],
)
def test_one_range_is_parsed_as_rfc_9110_reads_it(header, expected):
    assert parse(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        "",
        "items=0-5",
        "bytes",
        "bytes=",
        "bytes=-",
        "bytes=9-5",
        "bytes=x-y",
        "bytes=0-1,5-9",
        "bytes=1-2-3",
        "bytes=" + "9" * MAX_POSITION_DIGITS,  # no dash
        "bytes=٣-٤",  # digits, but not ASCII ones: int() would take them
        "bytes=²-",
    ],
)
def test_several_malformed_or_foreign_ranges_mean_the_whole_file(header):
    assert parse(header) is None


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=1000-2000", "bytes=-0"])
def test_range_past_the_end_is_unsatisfiable(header):
    with pytest.raises(Unsatisfiable, match=r"past the end|empty suffix"):
        parse(header)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("bytes=" + "0-1," * (MAX_RANGES + 1), "more than 16 ranges"),
        ("bytes=" + "1" * (MAX_POSITION_DIGITS + 1) + "-", "more than 20 digits"),
        ("bytes=0-" + "1" * (MAX_POSITION_DIGITS + 1), "more than 20 digits"),
        ("bytes=-" + "9" * 1000, "more than 20 digits"),
        ("bytes=" + "9" * 5000 + "-", "longer than 1024"),  # issue 12, finding 2
        ("bytes=" + " " * MAX_HEADER_LENGTH + "0-1", "longer than 1024"),
        (FINDING_1, "longer than 1024"),
    ],
)
def test_excessive_range_headers_are_refused_with_the_reason(header, reason):
    with pytest.raises(Unsatisfiable, match=reason):
        parse(header)


def test_the_largest_positions_allowed_are_read():
    largest = "9" * MAX_POSITION_DIGITS
    assert parse(f"bytes=0-{largest}") == ByteRange(0, SIZE - 1)
    assert parse(f"bytes=-{largest}") == ByteRange(0, SIZE - 1)
    with pytest.raises(Unsatisfiable, match="past the end"):
        parse(f"bytes={largest}-")


def test_sixteen_ranges_are_allowed_and_mean_the_whole_file():
    assert parse("bytes=" + ",".join(["0-1"] * MAX_RANGES)) is None


def test_no_hostile_header_takes_over_10_ms():
    assert_all_fast(parse, HOSTILE, allowed=(Unsatisfiable,))


@FUZZ
@given(header=st.one_of(range_headers(), grammar_text(PIECES)), size=st.integers(0, 2**63))
@example(header=HOSTILE[0], size=SIZE)  # always tried: finding 1's shape, small
def test_fuzz_range_raises_only_unsatisfiable_and_stays_fast(header, size):
    outcome, seconds = timed_call(lambda h: parse_range(h, size), header, allowed=(Unsatisfiable,))
    assert seconds <= PARSE_BUDGET, (seconds, header[:80])
    if isinstance(outcome, ByteRange):
        assert 0 <= outcome.start <= outcome.end < size


@FUZZ
@given(
    first=st.one_of(st.none(), st.integers(0, 10**MAX_POSITION_DIGITS - 1)),
    last=st.one_of(st.none(), st.integers(0, 10**MAX_POSITION_DIGITS - 1)),
    size=st.integers(1, 2**40),
)
def test_fuzz_well_formed_ranges_are_served_as_rfc_9110_says(first, last, size):
    header = f"bytes={'' if first is None else first}-{'' if last is None else last}"
    try:
        result = parse_range(header, size)
    except Unsatisfiable:
        assert (first is not None and first >= size) or (first is None and last == 0)
        return
    if (first is None and last is None) or (
        first is not None and last is not None and last < first
    ):
        assert result is None  # "bytes=-" and inverted ranges are malformed
    elif first is None:
        assert result == ByteRange(max(size - last, 0), size - 1)
    else:
        assert result == ByteRange(first, size - 1 if last is None else min(last, size - 1))
