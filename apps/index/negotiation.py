"""Choosing a simple-index format as PEP 691 asks: by the Accept header's q-values, or ``?format=``.

DRF's default negotiation takes the first renderer that matches the most specific media range and
ignores q-values, so ``application/vnd.pypi.simple.v1+json;q=0.1, text/html`` would answer JSON.
Here each offered type gets the q of the most specific range that matches it (RFC 9110 12.5.1);
the highest q wins, then the more specific match, then the server's order (the order of the view's
``renderer_classes``). ``q=0`` means "not acceptable". A missing or unusable Accept header counts
as ``*/*``, which gives the first renderer (``text/html``: what browsers and old pip expect).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

FORMAT_PARAM = "format"
# Bounds on client input: longer headers are cut at a comma, extra ranges are ignored.
MAX_ACCEPT_LENGTH = 4096
MAX_MEDIA_RANGES = 64
MEMO_HEADER_LENGTH = 512

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_RANGE_RE = re.compile(rf"^({_TOKEN})/({_TOKEN})$")
_QVALUE_RE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")


@dataclass(frozen=True, slots=True)
class MediaRange:
    """One media range of an Accept header, lower-cased, with its q-value."""

    type: str
    subtype: str
    q: float

    @property
    def specificity(self) -> int:
        """2 for ``type/subtype``, 1 for ``type/*``, 0 for ``*/*``."""
        if self.type == "*":
            return 0
        return 1 if self.subtype == "*" else 2

    def matches(self, media_type: str) -> bool:
        if self.type == "*":
            return True
        type_, _, subtype = media_type.partition("/")
        return self.type == type_ and self.subtype in ("*", subtype)


def _parse_range(text: str) -> MediaRange | None:
    """A media range, or None when it is malformed or its q-value is not a valid qvalue."""
    range_text, *params = text.split(";")
    match = _RANGE_RE.match(range_text.strip().lower())
    if match is None:
        return None
    type_, subtype = match.groups()
    if type_ == "*" and subtype != "*":
        return None
    q = 1.0
    for param in params:
        name, sep, value = param.partition("=")
        if name.strip().lower() != "q":
            continue  # media type parameters (charset, level...) do not change our types
        value = value.strip()
        if not sep or not _QVALUE_RE.match(value):
            return None
        q = float(value)
        break  # parameters after q are accept-extensions
    return MediaRange(type_, subtype, q)


def parse_accept(header: str) -> list[MediaRange]:
    """The well-formed media ranges of an Accept header, in order; malformed ones are skipped."""
    if len(header) > MAX_ACCEPT_LENGTH:
        header = header[: max(header.rfind(",", 0, MAX_ACCEPT_LENGTH), 0)]
    ranges = []
    for part in header.split(","):
        if not part.strip():
            continue
        media_range = _parse_range(part)
        if media_range is not None:
            ranges.append(media_range)
            if len(ranges) >= MAX_MEDIA_RANGES:
                break
    return ranges


def acceptability(ranges: Sequence[MediaRange], names: Sequence[str]) -> tuple[float, int]:
    """(q, specificity) the client gives a type known by ``names``: the most specific range wins.

    Ranges of equal specificity (say a type and its alias both listed) give the higher q.
    (0.0, -1) when nothing matches.
    """
    best_specificity, best_q = -1, 0.0
    for media_range in ranges:
        if not any(media_range.matches(name) for name in names):
            continue
        specificity = media_range.specificity
        if specificity > best_specificity:
            best_specificity, best_q = specificity, media_range.q
        elif specificity == best_specificity:
            best_q = max(best_q, media_range.q)
    return best_q, best_specificity


def select_offer(ranges: Sequence[MediaRange], offers: Sequence[Sequence[str]]) -> int | None:
    """Index of the offer to serve, or None when none is acceptable.

    Each offer is its media type followed by its aliases, in the server's order of preference.
    No usable range at all means ``*/*``.
    """
    if not ranges:
        return 0 if offers else None
    best_index, best_key = None, (0.0, -1)
    for index, names in enumerate(offers):
        q, specificity = acceptability(ranges, names)
        if q > 0 and (q, specificity) > best_key:
            best_index, best_key = index, (q, specificity)
    return best_index


@lru_cache(maxsize=256)
def _select_cached(header: str, offers: tuple[tuple[str, ...], ...]) -> int | None:
    return select_offer(parse_accept(header), offers)


def select_for_header(header: str, offers: Sequence[Sequence[str]]) -> int | None:
    """``select_offer`` for a raw Accept header. Clients repeat the same few headers, so the
    choice for short ones is remembered (a bounded cache: a flood of odd headers only evicts)."""
    offers = tuple(tuple(names) for names in offers)
    if len(header) <= MEMO_HEADER_LENGTH:
        return _select_cached(header, offers)
    return select_offer(parse_accept(header), offers)


def renderer_names(renderer: BaseRenderer) -> tuple[str, ...]:
    """The media type a renderer produces, then the aliases (``aliases``) it also answers to."""
    return (renderer.media_type.lower(), *getattr(renderer, "aliases", ()))


class QualityContentNegotiation(BaseContentNegotiation):
    """Picks a renderer by ``?format=<content type>`` if given, else by Accept with q-values.

    The chosen media type is always the renderer's concrete type (an alias such as
    ``application/vnd.pypi.simple.latest+json`` answers ``...v1+json``).
    """

    def select_parser(self, request: Request, parsers):
        return None  # the index takes no request bodies

    def select_renderer(self, request: Request, renderers, format_suffix=None):
        offers = [renderer_names(renderer) for renderer in renderers]
        requested = format_suffix or request.query_params.get(FORMAT_PARAM)
        if requested is not None:
            # A bare "+" in a query string decodes to a space; no media type holds one.
            wanted = requested.strip().lower().replace(" ", "+")
            for renderer, names in zip(renderers, offers, strict=True):
                if wanted in names:
                    return renderer, renderer.media_type
            raise NotAcceptable(
                f"Unknown format {requested[:100]!r}. {self.offered(offers)}",
                available_renderers=renderers,
            )
        index = select_for_header(request.headers.get("Accept", ""), offers)
        if index is None:
            raise NotAcceptable(
                f"None of the formats offered is acceptable to this client. {self.offered(offers)}",
                available_renderers=renderers,
            )
        return renderers[index], renderers[index].media_type

    @staticmethod
    def offered(offers: Sequence[Sequence[str]]) -> str:
        names = ", ".join(name for names in offers for name in names)
        return (
            f"Offered: {names}. Ask with an Accept header or ?{FORMAT_PARAM}=<content type>, "
            f"e.g. ?{FORMAT_PARAM}={offers[-1][0] if offers else 'text/html'}."
        )
