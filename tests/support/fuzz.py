"""Fuzzing the parsers of client input: hypothesis strategies, settings and a per-call timer.

The issue's bound is 10 ms for any input (``PARSE_BUDGET``). Each call is timed on its own with
``time.perf_counter``. A parser that backtracks is slow on every try, a loaded machine only now
and then, so a call over the budget is timed again (up to ``RETRIES`` times) and its fastest
time counts. Hypothesis's own deadline is kept loose (``FUZZ``): it covers a whole example, on a
2-core machine shared with other work, and only has to catch the catastrophic.
"""

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

PARSE_BUDGET = 0.010  # seconds
RETRIES = 5
# No load makes a few-microsecond call take this long: a call over it is not timed again.
HOPELESS = 100 * PARSE_BUDGET

# Modest counts (the suite stays fast), no example database (nothing written in the checkout).
FUZZ = settings(
    max_examples=200,
    deadline=timedelta(milliseconds=250),
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def timed_call(
    function: Callable[[str], object], text: str, *, allowed: tuple[type[Exception], ...] = ()
) -> tuple[object, float]:
    """``function(text)`` (or the ``allowed`` exception it raised) and its time in seconds: the
    first under ``PARSE_BUDGET``, else the fastest of ``RETRIES`` (of one, past ``HOPELESS``).
    Any other exception propagates: the test fails on it."""
    best = float("inf")
    for _ in range(RETRIES):
        start = time.perf_counter()
        try:
            outcome = function(text)
        except allowed as error:
            outcome = error
        seconds = time.perf_counter() - start
        best = min(best, seconds)
        if best <= PARSE_BUDGET or seconds > HOPELESS:
            break
    return outcome, best


def assert_all_fast(
    function: Callable[[str], object],
    texts: Iterable[str],
    *,
    allowed: tuple[type[Exception], ...] = (),
) -> None:
    """Each of ``texts``, in order, parsed within ``PARSE_BUDGET`` (``timed_call``) and raising
    nothing but ``allowed``. Stops at the first slow one: put the shortest texts first, and a
    backtracking parser fails in a moment instead of working for minutes on the longest."""
    for text in texts:
        _, seconds = timed_call(function, text, allowed=allowed)
        assert seconds <= PARSE_BUDGET, (
            f"{seconds * 1000:.1f} ms for {text[:60]!r}... ({len(text)})"
        )


def runs(pieces: Sequence[str], *, max_repeat: int = 600) -> st.SearchStrategy[str]:
    """Text made of runs of grammar pieces (``" " * 1500 + "-" + ...``): the long, repetitive
    shapes that make a backtracking pattern slow, which random text rarely has."""
    run = st.tuples(st.sampled_from(pieces), st.integers(1, max_repeat))
    return st.lists(run, max_size=6).map(lambda parts: "".join(p * n for p, n in parts))


def grammar_text(pieces: Sequence[str]) -> st.SearchStrategy[str]:
    """Short sequences of grammar pieces, arbitrary text, and long runs of pieces."""
    return st.one_of(
        st.lists(st.sampled_from(pieces), max_size=60).map("".join),
        st.text(max_size=300),
        runs(pieces),
    )
