"""Byte ranges (RFC 9110, section 14) for the stored files, and keeping gzip away from them.

One range is honoured; several (``bytes=0-1,5-9``) or a header this code does not understand
get the whole file, which RFC 9110 allows (14.2: a server MAY ignore Range). A range that starts
past the end is unsatisfiable (416).

The header is client input, so it is parsed in one pass with ``str`` methods (no regular
expression that could backtrack) and bounded. What no honest client sends is refused with 416,
as RFC 9110 (14.2, 15.5.17) allows for a range set that looks like an attack: a header longer
than ``MAX_HEADER_LENGTH``, more than ``MAX_RANGES`` ranges, or a position of more than
``MAX_POSITION_DIGITS`` digits (past 2**64, beyond any file; Python would refuse to convert
some thousands of digits). 416 rather than the whole file: it costs the node nothing to send.
"""

from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest
from django.middleware.gzip import GZipMiddleware
from django.utils.http import parse_http_date_safe

MAX_HEADER_LENGTH = 1024
MAX_RANGES = 16
MAX_POSITION_DIGITS = 20  # 2**64 - 1 has 20
_OWS = " \t"  # RFC 9110 5.6.3: optional whitespace


class Unsatisfiable(Exception):
    """The range asked for holds no byte of the file, or is refused as excessive (answer 416).

    The message says which, for the body of the 416.
    """


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def _position(text: str) -> int | None:
    """A byte position, None for an empty one; ValueError unless it is ASCII digits only.

    ``str.isdigit`` alone would pass other scripts' digits, which ``int`` accepts.
    """
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise ValueError(text)
    if len(text) > MAX_POSITION_DIGITS:
        raise Unsatisfiable(f"a byte position of more than {MAX_POSITION_DIGITS} digits")
    return int(text)


def _range_spec(text: str) -> tuple[int | None, int | None] | None:
    """``(first, last)`` of one range-spec, either may be None; None when it is malformed."""
    first, sep, last = text.partition("-")
    if not sep:
        return None
    try:
        start, end = _position(first.strip(_OWS)), _position(last.strip(_OWS))
    except ValueError:
        return None
    if start is None and end is None:
        return None  # "bytes=-"
    if start is not None and end is not None and end < start:
        return None  # invalid: RFC 9110 says to ignore the header
    return start, end


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range ``header`` asks of a file of ``size`` bytes.

    None means "send the whole file": no header, another unit, several ranges or a malformed
    one. Raises Unsatisfiable when the range lies wholly past the end, or when the header is
    refused as excessive (see the module's docstring). Linear in the header's length.
    """
    if not header:
        return None
    if len(header) > MAX_HEADER_LENGTH:
        raise Unsatisfiable(f"a Range header longer than {MAX_HEADER_LENGTH} characters")
    unit, sep, range_set = header.partition("=")
    if not sep or unit.strip(_OWS).lower() != "bytes":
        return None  # RFC 9110 14.2: a unit not understood MUST be ignored
    # A list (RFC 9110 5.6.1): empty elements do not count.
    specs = [spec for spec in range_set.split(",") if spec.strip(_OWS)]
    if len(specs) > MAX_RANGES:
        raise Unsatisfiable(f"more than {MAX_RANGES} ranges")
    parsed = [_range_spec(spec) for spec in specs]
    if len(parsed) != 1 or parsed[0] is None:
        return None
    start, end = parsed[0]
    if start is not None:
        if start >= size:
            raise Unsatisfiable("the range starts past the end of the file")
        return ByteRange(start, size - 1 if end is None else min(end, size - 1))
    if end == 0:
        raise Unsatisfiable("an empty suffix range")
    if size == 0:
        return None
    return ByteRange(max(size - end, 0), size - 1)


def if_range_allows(request: HttpRequest, *, etag: str, last_modified: datetime) -> bool:
    """Whether ``If-Range`` (if any) still names this file, so a range may be sent.

    An entity tag must match strongly; a date must be exactly the Last-Modified date.
    """
    header = request.headers.get("If-Range")
    if not header:
        return True
    header = header.strip()
    if header.startswith(('"', "W/")):
        return header == etag
    date = parse_http_date_safe(header)
    return date is not None and date == int(last_modified.timestamp())


def requested_range(
    request: HttpRequest, *, size: int, etag: str, last_modified: datetime
) -> ByteRange | None:
    """The range to answer with 206, or None for 200 with the whole file; may raise
    Unsatisfiable."""
    if not if_range_allows(request, etag=etag, last_modified=last_modified):
        return None
    return parse_range(request.headers.get("Range"), size)


class RangeAwareGZipMiddleware(GZipMiddleware):
    """Django's GZipMiddleware, except for responses that offer byte ranges (stored files) and
    answers to HEAD.

    Compressing a file would drop its Content-Length, make its ranges refer to bytes nobody
    sent, and gain nothing: wheels and sdists are compressed already. A HEAD answer has no body;
    "compressing" it would only add gzip's framing and drop the Content-Length it announces.
    """

    def process_response(self, request, response):
        if response.has_header("Accept-Ranges") or response.has_header("Content-Range"):
            return response
        if request.method == "HEAD":
            return response  # no body to compress; caching.head_response set its Vary
        return super().process_response(request, response)
