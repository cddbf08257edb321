"""Reading simple-index pages (PEP 503 HTML, PEP 691 JSON) into one comparable form."""

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"


@dataclass(frozen=True)
class FileEntry:
    """One file of a project page, whatever format listed it.

    ``yanked``: None when not yanked, else the reason ("" for none); ``core_metadata``: None
    when absent, else the hashes given (empty when only ``true``).
    """

    filename: str
    url: str
    hashes: tuple[tuple[str, str], ...]
    requires_python: str | None
    yanked: str | None
    core_metadata: tuple[tuple[str, str], ...] | None


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self.meta: dict[str, str] = {}
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open, self._text = dict(attrs), []
        elif tag == "meta":
            values = dict(attrs)
            if values.get("name"):
                self.meta[values["name"]] = values.get("content") or ""

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.anchors.append((self._open, "".join(self._text).strip()))
            self._open = None


def parse_html(text: str) -> _Anchors:
    parser = _Anchors()
    parser.feed(text)
    parser.close()
    return parser


def _hash_pairs(text: str) -> tuple[tuple[str, str], ...]:
    name, _, value = text.partition("=")
    return ((name, value),) if value else ()


def html_files(text: str, page_url: str) -> list[FileEntry]:
    entries = []
    for attrs, label in parse_html(text).anchors:
        url, fragment = urldefrag(urljoin(page_url, attrs["href"] or ""))
        metadata = attrs.get("data-core-metadata")
        entries.append(
            FileEntry(
                filename=label,
                url=url,
                hashes=_hash_pairs(fragment),
                requires_python=attrs.get("data-requires-python") or None,
                yanked=attrs.get("data-yanked") if "data-yanked" in attrs else None,
                core_metadata=None
                if metadata is None
                else (() if metadata == "true" else _hash_pairs(metadata)),
            )
        )
    return sorted(entries, key=lambda e: e.filename)


def json_files(data: dict, page_url: str) -> list[FileEntry]:
    entries = []
    for file in data["files"]:
        yanked = file.get("yanked", False)
        metadata = file.get("core-metadata", False)
        entries.append(
            FileEntry(
                filename=file["filename"],
                url=urljoin(page_url, file["url"]),
                hashes=tuple(sorted(file["hashes"].items())),
                requires_python=file.get("requires-python") or None,
                yanked=None if yanked is False else ("" if yanked is True else yanked),
                core_metadata=None
                if metadata is False
                else (() if metadata is True else tuple(sorted(metadata.items()))),
            )
        )
    return sorted(entries, key=lambda e: e.filename)
