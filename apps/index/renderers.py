"""The simple index's formats, one DRF renderer each: PEP 691 JSON and PEP 503 HTML.

Every renderer takes a project page from selectors.py (or a DRF error detail) and returns bytes.
Bytes given to ``render`` are a page this same renderer produced earlier (the views cache them)
and pass through untouched. File URLs come from links.py, under the base URL the view puts in
the renderer context as ``base_url``. The root page is a whole-index document, rendered in
pieces by apps/index/documents/formats.py, whose HTML head and JSON encoding these share.
"""

from html import escape
from http import HTTPStatus

from rest_framework.renderers import BaseRenderer

from .documents.formats import API_VERSION, HTML_TAIL, html_head, json_bytes
from .links import distribution_url, iso8601, provenance_url
from .selectors import FileLink, ProjectDetail

JSON_V1 = "application/vnd.pypi.simple.v1+json"
JSON_LATEST = "application/vnd.pypi.simple.latest+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
HTML_LATEST = "application/vnd.pypi.simple.latest+html"
TEXT_HTML = "text/html"


class SimpleRenderer(BaseRenderer):
    """Common dispatch: cached bytes, project page or error detail."""

    # Other media types this renderer answers to (see negotiation.py).
    aliases: tuple[str, ...] = ()

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        if isinstance(data, bytes):
            return data
        context = renderer_context or {}
        if isinstance(data, ProjectDetail):
            return self.render_project(data, base=context.get("base_url", ""))
        response = context.get("response")
        status = response.status_code if response is not None else 500
        detail = data.get("detail", data) if isinstance(data, dict) else data
        return self.render_error(status=status, detail=str(detail))

    def render_project(self, page: ProjectDetail, *, base: str) -> bytes:
        raise NotImplementedError

    def render_error(self, *, status: int, detail: str) -> bytes:
        raise NotImplementedError


def _provenance(link: FileLink, *, base: str, project: str) -> str | None:
    if not link.provenance_sha256:
        return None
    return provenance_url(base=base, project=project, version=link.version, filename=link.filename)


def _json_status(page: ProjectDetail) -> dict:
    """PEP 792 ``project-status``: the reason only when there is one (PyPI sends none)."""
    status = {"status": page.status}
    if page.status_reason:
        status["reason"] = page.status_reason
    return status


def _json_file(link: FileLink, *, base: str, project: str) -> dict:
    if link.yanked:
        yanked: bool | str = link.yanked_reason or True  # PEP 691: a reason is non-empty
    else:
        yanked = False
    metadata = {"sha256": link.core_metadata_sha256} if link.core_metadata_sha256 else False
    return {
        "filename": link.filename,
        "url": distribution_url(base=base, distribution=link),
        "hashes": {"sha256": link.sha256},
        "requires-python": link.requires_python or None,
        "yanked": yanked,
        # PEP 714: only the new key; pip 22.3-23.1 crash on "dist-info-metadata" in JSON.
        "core-metadata": metadata,
        "size": link.size,
        "upload-time": iso8601(link.upload_time),
        "provenance": _provenance(link, base=base, project=project),
    }


class SimpleJSONRenderer(SimpleRenderer):
    """PEP 691 JSON, api-version 1.4 (PEP 700, 740, 792), with PyPI's ``_last-serial`` fields."""

    media_type = JSON_V1
    aliases = (JSON_LATEST,)
    format = "json"
    charset = None  # JSON is UTF-8 by definition; PyPI sends no charset either

    def render_project(self, page: ProjectDetail, *, base: str) -> bytes:
        return json_bytes(
            {
                "meta": {"api-version": API_VERSION, "_last-serial": page.last_serial},
                "name": page.name,
                "project-status": _json_status(page),
                "versions": page.versions,
                "files": [_json_file(link, base=base, project=page.name) for link in page.files],
            }
        )

    def render_error(self, *, status: int, detail: str) -> bytes:
        return json_bytes({"detail": detail})


def _html_anchor(link: FileLink, *, base: str, project: str) -> str:
    href = f"{distribution_url(base=base, distribution=link)}#sha256={link.sha256}"
    attributes = [f'href="{escape(href)}"']
    if link.requires_python:
        attributes.append(f'data-requires-python="{escape(link.requires_python)}"')
    if link.yanked:
        attributes.append(f'data-yanked="{escape(link.yanked_reason)}"')
    if link.core_metadata_sha256:
        value = f"sha256={link.core_metadata_sha256}"
        # PEP 714: data-core-metadata; the older name beside it for pip < 23.2.
        attributes.append(f'data-core-metadata="{value}" data-dist-info-metadata="{value}"')
    if url := _provenance(link, base=base, project=project):
        attributes.append(f'data-provenance="{escape(url)}"')  # PEP 740
    return f"    <a {' '.join(attributes)}>{escape(link.filename)}</a><br />\n"


class SimpleHTMLRenderer(SimpleRenderer):
    """PEP 503 HTML with PEP 592 (yanked), 629 (version meta), 658/714 (core metadata), 740
    (provenance) and 792 (project status)."""

    media_type = HTML_V1
    aliases = (HTML_LATEST,)
    format = "html"
    charset = "utf-8"

    def render_project(self, page: ProjectDetail, *, base: str) -> bytes:
        title = f"Links for {page.name}"
        head = html_head(title, status=page.status, reason=page.status_reason)
        parts = [head, f"    <h1>{escape(title)}</h1>\n"]
        parts += [_html_anchor(link, base=base, project=page.name) for link in page.files]
        parts += [HTML_TAIL, f"<!--SERIAL {page.last_serial}-->\n"]
        return "".join(parts).encode()

    def render_error(self, *, status: int, detail: str) -> bytes:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        return (
            html_head(f"{status} {phrase}")
            + f"    <h1>{escape(phrase)}</h1>\n    <p>{escape(detail)}</p>\n"
            + HTML_TAIL
        ).encode()


class TextHTMLRenderer(SimpleHTMLRenderer):
    """The same HTML as ``text/html``: what browsers, old pip and no Accept header get."""

    media_type = TEXT_HTML
    aliases = ()
