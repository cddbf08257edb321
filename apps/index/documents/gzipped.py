"""One gzip member made of pieces compressed apart, and the CRC-32 arithmetic behind it.

Each piece is compressed alone into raw deflate ended by a full flush: byte-aligned blocks that
refer to nothing before them and are not final, so any sequence of such pieces is one valid
deflate stream. A gzip answer is then the gzip header, the pieces' deflate bytes in order, the
last piece finished with a final block, and the trailer: the CRC-32 and length of the whole.
The CRC of the whole comes from the pieces' CRCs (``crc32_combine``), so no byte is read again.

The arithmetic is zlib's (crc32.c: ``multmodp``, ``x2nmodp``), as Python's zlib does not
expose ``crc32_combine``: CRC-32 is a polynomial over GF(2), and appending ``n`` bytes to a
message multiplies its CRC by x^(8n) modulo the polynomial before the new bytes' CRC is added.
"""

import struct
import zlib

LEVEL = 6  # as GZipMiddleware compresses
# gzip header (RFC 1952): magic, deflate, no flags, no time, no extra flags, OS unknown.
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"

_POLY = 0xEDB88320  # CRC-32's polynomial, bit-reversed


def _multmodp(a: int, b: int) -> int:
    """a * b modulo the CRC polynomial (bit-reversed: x^0 is the top bit)."""
    m = 1 << 31
    product = 0
    while True:
        if a & m:
            product ^= b
            if not a & (m - 1):
                return product
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


# x^(2^k) modulo the polynomial, k = 0..31.
_X2N = [1 << 30]
for _ in range(31):
    _X2N.append(_multmodp(_X2N[-1], _X2N[-1]))


def crc32_shift(length: int) -> int:
    """x^(8 * length) modulo the polynomial: what a CRC is multiplied by when ``length`` bytes
    follow. Kept per piece, so combining costs one multiplication."""
    product, k = 1 << 31, 3
    while length:
        if length & 1:
            product = _multmodp(_X2N[k & 31], product)
        length >>= 1
        k += 1
    return product


def crc32_append(crc: int, *, crc2: int, shift2: int) -> int:
    """The CRC-32 of A + B, from A's CRC, B's CRC and B's ``crc32_shift(len(B))``."""
    return _multmodp(shift2, crc) ^ crc2


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """zlib's crc32_combine: the CRC-32 of A + B from A's CRC, B's CRC and B's length."""
    return crc32_append(crc1, crc2=crc2, shift2=crc32_shift(length2))


def deflate_piece(data: bytes) -> bytes:
    """``data`` as raw deflate ended by a full flush: joinable with any other such piece."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


def deflate_last(data: bytes) -> bytes:
    """``data`` as raw deflate ending the stream (its last block is final)."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH)


def gzip_trailer(crc: int, length: int) -> bytes:
    """CRC-32 and length (modulo 2^32) of the uncompressed whole, little-endian."""
    return struct.pack("<II", crc & 0xFFFFFFFF, length & 0xFFFFFFFF)
