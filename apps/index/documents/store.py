"""The whole-index documents on disk: immutable segment files, and one manifest naming them.

Under ``settings.PYPIMIRROR_INDEX_DIR``::

    manifest.json          the current documents: serial, CRCs and lengths, segments in order
    segments/<digest>.seg  one run of projects: for each format its bytes, then as deflate
    lock                   flock'ed by the one process that updates

A segment file is named by its content and never changes: it is written under a temporary
name, synced and renamed before any manifest names it. The manifest is replaced the same way,
so a reader sees a whole manifest whose every segment exists. A file the manifest stops naming
is kept ``GRACE`` seconds (a reader of the previous manifest may still be streaming it), then
removed by a later update; so is a file nothing names (left by an update that died).
"""

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from django.conf import settings

from .formats import FORMATS, Row, document_entries, document_head, document_tail
from .gzipped import (
    GZIP_HEADER,
    crc32_append,
    crc32_shift,
    deflate_last,
    deflate_piece,
    gzip_trailer,
)

LAYOUT = "1"  # this module's file format; with RENDER_VERSION in Manifest.version
MANIFEST = "manifest.json"
SEGMENTS = "segments"
LOCK = "lock"
GRACE = 10 * 60  # seconds a file no longer named stays readable
CHUNK = 64 * 1024  # streamed in pieces of about this size; bigger parts go as read, uncopied


def index_dir() -> Path:
    return Path(settings.PYPIMIRROR_INDEX_DIR)


@dataclass(frozen=True, slots=True)
class Part:
    """One format's bytes in a segment file: plain, then as a deflate piece."""

    offset: int
    length: int
    crc: int
    shift: int  # gzipped.crc32_shift(length)
    zoffset: int
    zlength: int


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of consecutive projects, rendered in every format (``parts``, as FORMATS)."""

    file: str
    first: str  # normalized name of its first project
    count: int
    lead: bool  # rendered as the document's first run (JSON: no leading comma)
    parts: tuple[Part, ...]

    def encode(self) -> list:
        fields = [self.file, self.first, self.count, self.lead]
        for part in self.parts:
            fields += [part.offset, part.length, part.crc, part.shift, part.zoffset, part.zlength]
        return fields

    @classmethod
    def decode(cls, fields: list) -> "Segment":
        file, first, count, lead, *numbers = fields
        parts = tuple(Part(*numbers[i : i + 6]) for i in range(0, len(numbers), 6))
        return cls(file, first, count, bool(lead), parts)


@dataclass(frozen=True)
class Manifest:
    """The documents at ``serial``; ``stamp`` is the time of that serial's journal entry, so a
    catalog replaced by another at the same serial (a restored backup) is not mistaken for it."""

    version: str
    serial: int
    stamp: str
    segments: tuple[Segment, ...]
    crcs: tuple[int, ...]  # of each whole document, as FORMATS
    lengths: tuple[int, ...]
    # Serials not in the journal when the manifest was made, [low, high, when first missed]:
    # an entry committed late (its transaction began before a later one committed) is looked
    # for again by the next update.
    gaps: tuple[tuple[int, int, float], ...] = ()
    retired: dict[str, float] = field(default_factory=dict)  # file -> when it stopped being named
    directory: Path = Path()

    def current(self, *, serial: int, stamp: str, version: str) -> bool:
        return (self.serial, self.stamp, self.version) == (serial, stamp, version)

    @cached_property
    def key(self) -> str:
        """Names these documents' bytes: their serial, then a digest of what makes them."""
        digest = hashlib.sha256(f"{self.version}\n{self.stamp}".encode())
        for segment in self.segments:
            digest.update(segment.file.encode())
        return f"{self.serial}-{digest.hexdigest()[:16]}"

    @cached_property
    def _frames(self) -> dict[str, tuple[bytes, bytes, bytes, bytes]]:
        """(head, tail, head as a deflate piece, tail ending the stream) of each format."""
        frames = {}
        for fmt in FORMATS:
            head = document_head(fmt, serial=self.serial)
            tail = document_tail(fmt, serial=self.serial)
            frames[fmt] = (head, tail, deflate_piece(head), deflate_last(tail))
        return frames

    def length(self, fmt: str, *, gzip: bool = False) -> int:
        """The body's size in bytes, plain or gzipped."""
        index = FORMATS.index(fmt)
        if not gzip:
            return self.lengths[index]
        _, _, head_z, tail_z = self._frames[fmt]
        body = sum(segment.parts[index].zlength for segment in self.segments)
        return len(GZIP_HEADER) + len(head_z) + body + len(tail_z) + 8

    def chunks(self, fmt: str, *, gzip: bool = False) -> Iterator[bytes]:
        """The body, read from the segment files as it is sent (at most CHUNK or so held)."""
        index = FORMATS.index(fmt)
        head, tail, head_z, tail_z = self._frames[fmt]
        pending = [GZIP_HEADER + head_z] if gzip else [head]
        size = len(pending[0])
        folder = self.directory / SEGMENTS
        for segment in self.segments:
            part = segment.parts[index]
            offset, length = (part.zoffset, part.zlength) if gzip else (part.offset, part.length)
            fd = os.open(folder / segment.file, os.O_RDONLY)
            try:
                data = os.pread(fd, length, offset)
            finally:
                os.close(fd)
            if len(data) != length:
                raise OSError(f"{segment.file}: {len(data)} bytes where {length} were expected")
            pending.append(data)
            size += length
            if size >= CHUNK:
                yield b"".join(pending)
                pending, size = [], 0
        if gzip:
            pending += [tail_z, gzip_trailer(self.crcs[index], self.lengths[index])]
        else:
            pending.append(tail)
        yield b"".join(pending)


def manifest_make(
    *,
    version: str,
    serial: int,
    stamp: str,
    segments: Sequence[Segment],
    gaps: Sequence[tuple[int, int, float]] = (),
    retired: dict[str, float] | None = None,
    directory: Path,
) -> Manifest:
    """A manifest for these segments, its documents' CRCs and lengths combined from theirs."""
    crcs, lengths = [], []
    for index, fmt in enumerate(FORMATS):
        head = document_head(fmt, serial=serial)
        tail = document_tail(fmt, serial=serial)
        crc, length = zlib.crc32(head), len(head)
        for segment in segments:
            part = segment.parts[index]
            crc = crc32_append(crc, crc2=part.crc, shift2=part.shift)
            length += part.length
        crc = crc32_append(crc, crc2=zlib.crc32(tail), shift2=crc32_shift(len(tail)))
        crcs.append(crc)
        lengths.append(length + len(tail))
    return Manifest(
        version=version,
        serial=serial,
        stamp=stamp,
        segments=tuple(segments),
        crcs=tuple(crcs),
        lengths=tuple(lengths),
        gaps=tuple(tuple(gap) for gap in gaps),
        retired=dict(retired or {}),
        directory=directory,
    )


# The manifest last read by this process, with the identity of the file it came from.
_last_read: dict[Path, tuple[tuple[int, int, int], Manifest]] = {}


def manifest_read(directory: Path) -> Manifest | None:
    """The current manifest, or None when there is none (or it cannot be read). Parsed once per
    version of the file in each process."""
    try:
        fd = os.open(directory / MANIFEST, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        stat = os.fstat(fd)
        identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        last = _last_read.get(directory)
        if last is not None and last[0] == identity:
            return last[1]
        try:
            data = json.loads(handle.read())
            manifest = Manifest(
                version=data["version"],
                serial=data["serial"],
                stamp=data["stamp"],
                segments=tuple(Segment.decode(fields) for fields in data["segments"]),
                crcs=tuple(data["crcs"]),
                lengths=tuple(data["lengths"]),
                gaps=tuple(tuple(gap) for gap in data["gaps"]),
                retired=data["retired"],
                directory=directory,
            )
        except (ValueError, KeyError, TypeError):
            return None
    _last_read[directory] = (identity, manifest)
    return manifest


def file_write_new(path: Path, chunks: Iterable[bytes], *, sync: bool = True) -> None:
    """Write ``chunks`` to ``path`` whole or not at all: a temporary file (synced unless
    ``sync`` is false: a file that can be made again), renamed."""
    temporary = path.with_name(f".tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        with open(temporary, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def segment_write(directory: Path, rows: Sequence[Row], *, lead: bool) -> Segment:
    """Render ``rows`` (at least one) in every format into a segment file (kept if one with
    the same content exists)."""
    pieces, parts, offset = [], [], 0
    for fmt in FORMATS:
        raw = document_entries(fmt, rows, first=lead)
        packed = deflate_piece(raw)
        crc = zlib.crc32(raw)
        parts.append(
            Part(offset, len(raw), crc, crc32_shift(len(raw)), offset + len(raw), len(packed))
        )
        pieces += [raw, packed]
        offset += len(raw) + len(packed)
    data = b"".join(pieces)
    name = hashlib.sha256(data).hexdigest()[:40] + ".seg"
    path = directory / SEGMENTS / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        file_write_new(path, [data])
    return Segment(name, rows[0][1], len(rows), lead, tuple(parts))


def manifest_write(manifest: Manifest) -> None:
    """Make ``manifest`` the current one, its segment files safely on disk first."""
    directory = manifest.directory
    (directory / SEGMENTS).mkdir(parents=True, exist_ok=True)
    _sync_directory(directory / SEGMENTS)
    data = {
        "version": manifest.version,
        "serial": manifest.serial,
        "stamp": manifest.stamp,
        "crcs": list(manifest.crcs),
        "lengths": list(manifest.lengths),
        "gaps": [list(gap) for gap in manifest.gaps],
        "retired": manifest.retired,
        "segments": [segment.encode() for segment in manifest.segments],
    }
    file_write_new(directory / MANIFEST, [json.dumps(data, separators=(",", ":")).encode()])
    _sync_directory(directory)
    stat = os.stat(directory / MANIFEST)  # the lock holder's: no one else replaces it
    _last_read[directory] = ((stat.st_ino, stat.st_mtime_ns, stat.st_size), manifest)


def retired_after(old: Manifest | None, segments: Sequence[Segment], *, now: float) -> dict:
    """The files to keep a while once ``segments`` replace ``old``'s: those ``old`` named and
    these do not, and those retired less than GRACE ago."""
    named = {segment.file for segment in segments}
    if old is None:
        return {}
    retired = {file: when for file, when in old.retired.items() if now - when < GRACE}
    retired.update({s.file: now for s in old.segments if s.file not in retired})
    return {file: when for file, when in retired.items() if file not in named}


def segments_prune(manifest: Manifest, *, now: float) -> int:
    """Remove the segment files (and temporary files) ``manifest`` does not name, retired (or,
    never named, written) at least GRACE ago; how many. Call with the lock held."""
    folder = manifest.directory / SEGMENTS
    keep = {segment.file for segment in manifest.segments}
    keep |= {file for file, when in manifest.retired.items() if now - when < GRACE}
    removed = 0
    with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name in keep:
                continue
            with contextlib.suppress(FileNotFoundError):
                if now - entry.stat().st_mtime >= GRACE:
                    os.unlink(entry.path)
                    removed += 1
    return removed


def lock_try(directory: Path) -> int | None:
    """The update lock's descriptor, held, or None when another process (or thread) holds it.
    Released by ``lock_release`` or when the process ends."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def lock_release(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
