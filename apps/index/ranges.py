"""Byte ranges (RFC 9110, section 14) for the stored files, and keeping gzip away from them.

One range is honoured; several (``bytes=0-1,5-9``) or a header this code does not understand
get the whole file, which RFC 9110 allows. A range that starts past the end is unsatisfiable.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest
from django.middleware.gzip import GZipMiddleware
from django.utils.http import parse_http_date_safe

_RANGE_RE = re.compile(r"\s*(\d*)\s*-\s*(\d*)\s*")


class Unsatisfiable(Exception):
    """The range asked for holds no byte of the file (answer 416)."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range ``header`` asks of a file of ``size`` bytes.

    None means "send the whole file": no header, another unit, several ranges or a malformed
    one. Raises Unsatisfiable when the range lies wholly past the end.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _RANGE_RE.fullmatch(spec)
    if match is None:
        return None
    first, last = match.groups()
    if first:
        start = int(first)
        end = int(last) if last else size - 1
        if last and end < start:
            return None  # invalid: RFC 9110 says to ignore the header
        if start >= size:
            raise Unsatisfiable
        return ByteRange(start, min(end, size - 1))
    if not last:
        return None  # "bytes=-"
    suffix = int(last)
    if suffix == 0:
        raise Unsatisfiable
    if size == 0:
        return None
    return ByteRange(max(size - suffix, 0), size - 1)


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
