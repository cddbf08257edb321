"""Pieces deflated apart make one gzip member; their CRCs combine into the whole's."""

import gzip
import os
import random
import zlib

import pytest

from apps.index.documents.gzipped import (
    GZIP_HEADER,
    crc32_append,
    crc32_combine,
    crc32_shift,
    deflate_last,
    deflate_piece,
    gzip_trailer,
)


@pytest.mark.parametrize("lengths", [(0, 0), (1, 0), (0, 1), (10, 1000), (70_000, 3), (5, 1 << 20)])
def test_crc32_combine_is_the_crc_of_the_concatenation(lengths):
    first, second = (os.urandom(n) for n in lengths)
    combined = crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second))
    assert combined == zlib.crc32(first + second)


def test_crc32_append_with_a_kept_shift_is_the_same_as_combine():
    piece = b"x" * 12345
    shift = crc32_shift(len(piece))
    assert crc32_append(99, crc2=zlib.crc32(piece), shift2=shift) == crc32_combine(
        99, zlib.crc32(piece), len(piece)
    )


def member(pieces: list[bytes]) -> bytes:
    crc = 0
    for piece in pieces:
        crc = crc32_combine(crc, zlib.crc32(piece), len(piece))
    body = b"".join(deflate_piece(piece) for piece in pieces[:-1]) + deflate_last(pieces[-1])
    return GZIP_HEADER + body + gzip_trailer(crc, sum(map(len, pieces)))


def test_pieces_deflated_apart_are_one_gzip_member():
    rng = random.Random(7)
    pieces = [
        bytes(rng.choice(b"abc <>\n") for _ in range(rng.randrange(0, 5000))) for _ in range(40)
    ]
    pieces.append(b"")  # an empty last piece still ends the stream
    data = member(pieces)
    assert gzip.decompress(data) == b"".join(pieces)
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)  # one member, nothing after it
    assert decompressor.decompress(data) == b"".join(pieces)
    assert decompressor.eof and decompressor.unused_data == b""


def test_a_wrong_crc_is_caught_by_gzip():
    data = bytearray(member([b"abc", b"def"]))
    data[-8] ^= 1
    with pytest.raises(gzip.BadGzipFile):
        gzip.decompress(bytes(data))
