"""Secrets in upstream URLs: credentials (``user:password@``, or a token in the query string)
are sent to the upstream's origin and never shown.

Every URL that reaches a person or a machine (names, the admin, the API, logs, command output,
error texts) goes through ``redact_url`` or ``redact_text``; requests get them from
``Credentials``. Plain standard library: the logging configuration imports this module.
"""

import base64
import logging
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"
# A URL inside free text (error messages, log lines): up to a blank, a quote or a bracket.
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>`]+")
# Secrets shorter than this are only masked where they sit in a URL, not wherever they occur
# in a text (a two-letter password would otherwise garble every message).
_MIN_LOOSE_SECRET = 4


def _mask_query(query: str) -> str:
    """Every value masked, the names kept: index tokens go by many names."""
    pieces = []
    for piece in query.split("&"):
        name, sep, _value = piece.partition("=")
        pieces.append(f"{name}={MASK}" if sep else (MASK if piece else piece))
    return "&".join(pieces)


def redact_url(url: str) -> str:
    """The URL as it may be shown: its userinfo and the value of each query parameter masked
    (``http://***@host/simple/?token=***``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = _mask_query(parts.query) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def strip_credentials(url: str) -> str:
    """The URL without userinfo, query or fragment: where the upstream is, nothing more."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def url_secrets(url: str) -> list[str]:
    """The secret strings a URL holds (password, user, query values), as written and decoded."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found: list[str] = []
    if "@" in parts.netloc:
        userinfo = parts.netloc.rpartition("@")[0]
        found += [part for part in userinfo.split(":", 1) if part]
    for piece in parts.query.split("&") if parts.query else []:
        value = piece.partition("=")[2] if "=" in piece else piece
        if value:
            found.append(value)
    found += [unquote(s) for s in found]
    return sorted({s for s in found if s}, key=len, reverse=True)


def redact_text(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """``text`` with every URL in it redacted, and ``secrets`` (``url_secrets``) masked
    wherever else they occur: the last guard before an error is stored or shown."""
    if not text:
        return text
    text = _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)
    for secret in secrets:
        if len(secret) >= _MIN_LOOSE_SECRET:
            text = text.replace(secret, MASK)
    return text


def upstream_name_for_url(url: str) -> str:
    """An upstream's generated name, from its host, port and path alone (never its
    credentials): ``http://u:p@127.0.0.1:8080/simple/?token=t`` → ``127-0-0-1-8080-simple``."""
    location = strip_credentials(url).split("://", 1)[1].rstrip("/")
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", location).strip("-")
    return slug[:100] or "upstream"


@dataclass(frozen=True)
class Credentials:
    """What an upstream URL's secrets add to each request to its origin (scheme, host, port),
    as pip does: basic auth from the userinfo, the query parameters appended."""

    origin: tuple[str, str, int]
    authorization: str | None
    query: str

    def applies_to(self, scheme: str, host: str, port: int | None) -> bool:
        port = port or (443 if scheme == "https" else 80)
        return (scheme, host.lower(), port) == self.origin

    def with_query(self, query: str) -> str:
        """``query`` with the credential parameters added (those it already has are kept)."""
        if not self.query:
            return query
        present = {piece.partition("=")[0] for piece in query.split("&") if piece}
        extra = [p for p in self.query.split("&") if p.partition("=")[0] not in present]
        return "&".join(part for part in (query, *extra) if part)


def basic_authorization(user: str, password: str) -> str:
    """The ``Authorization`` header of HTTP basic auth."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def credentials_from_url(url: str) -> Credentials | None:
    """The credentials an upstream URL carries, or None when it has none."""
    parts = urlsplit(url)
    if not parts.hostname or ("@" not in parts.netloc and not parts.query):
        return None
    authorization = None
    if "@" in parts.netloc:
        authorization = basic_authorization(
            unquote(parts.username or ""), unquote(parts.password or "")
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Credentials((parts.scheme, parts.hostname.lower(), port), authorization, parts.query)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every URL in a record (message and traceback): whatever
    logs a URL with a secret in it (a library, an unforeseen error) does not show it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "://" in message:
            record.msg, record.args = redact_text(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and "://" in record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True
