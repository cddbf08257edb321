"""Mirror tokens: made here, kept as their sha256 only, compared in constant time.

A token is ``pmt_`` and 43 characters of ``secrets.token_urlsafe(32)`` (256 bits): the prefix
makes it recognizable (a secret scanner, a log reader), and so much entropy needs no slow hash, so
a token is found by its sha256 with one indexed query.
"""

import hashlib
import hmac
import secrets

PREFIX = "pmt_"
SHOWN_PREFIX_LENGTH = 12  # "pmt_" and 8 characters: tells tokens apart, reveals ~48 bits of 256


def token_new() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, digest: str) -> bool:
    return hmac.compare_digest(token_digest(token), digest)


def token_looks_valid(token: str) -> bool:
    """Shaped like a token of ours (cheap, before any query)."""
    return token.startswith(PREFIX) and 20 <= len(token) <= 200 and token.isascii()
