"""HTML → PDF with WeasyPrint, closed to the outside world.

* One module-level :class:`~weasyprint.text.fonts.FontConfiguration`, reused by every render
  (building one scans the system fonts; fonts come from fontconfig, e.g. fonts-noto-cjk).
* Relative URLs resolve against ``pdfs/static/pdfs/``; the URL fetcher serves only regular
  files inside that folder (after resolving the real path, so neither ``..`` nor symlinks
  lead out) and ``data:`` URLs. Everything else (http, https, ftp, other ``file:`` paths…)
  is refused with an ordinary exception, which WeasyPrint treats as a failed fetch: it logs
  a warning and renders the document without that resource.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, path2url

__all__ = [
    "FONT_CONFIG",
    "STATIC_DIR",
    "ResourceRefused",
    "StaticOnlyFetcher",
    "html_to_pdf",
    "htmls_to_pdf",
    "render_pdf",
]

logger = logging.getLogger(__name__)

STATIC_DIR = (Path(__file__).resolve().parent / "static" / "pdfs").resolve()

FONT_CONFIG = FontConfiguration()

# FontConfiguration wraps one fontconfig/Pango font map and is not documented as
# thread-safe; renders in one process take turns (a render is a few hundred ms).
_RENDER_LOCK = threading.Lock()


class ResourceRefused(ValueError):
    """Raised by the fetcher for any URL it will not serve (WeasyPrint: a failed fetch)."""


class StaticOnlyFetcher(URLFetcher):
    """Serve ``data:`` URLs and files inside ``root``; refuse everything else."""

    def __init__(self, root: Path = STATIC_DIR) -> None:
        super().__init__(timeout=1, allowed_protocols={"data"}, allow_redirects=False)
        self.root = Path(root).resolve()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)  # urllib's DataHandler; data: only
        if scheme == "file":
            path = self._local_path(url)
            if path is not None:
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(
                    path2url(path), body=path.read_bytes(), headers={"Content-Type": content_type}
                )
        logger.warning("PDF rendering refused to fetch %s", url[:200])
        raise ResourceRefused(f"refused to fetch {url[:200]}")

    def _local_path(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return None
        try:
            path = Path(url2pathname(unquote(parts.path))).resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            return None
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path


def html_to_pdf(html: str) -> bytes:
    """Render an HTML string to PDF bytes (A4 and fonts come from the document's CSS)."""
    document = HTML(string=html, base_url=path2url(STATIC_DIR), url_fetcher=StaticOnlyFetcher())
    with _RENDER_LOCK:
        return document.write_pdf(font_config=FONT_CONFIG)


def htmls_to_pdf(htmls: list[str]) -> bytes:
    """Several HTML documents as one PDF: each laid out on its own (its own page numbers),
    then their pages written together."""
    fetcher = StaticOnlyFetcher()
    with _RENDER_LOCK:
        documents = [
            HTML(string=html, base_url=path2url(STATIC_DIR), url_fetcher=fetcher).render(font_config=FONT_CONFIG)
            for html in htmls
        ]
        pages = [page for document in documents for page in document.pages]
        return documents[0].copy(pages).write_pdf()


def render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """Render a Django template (``pdfs/templates/...``) to HTML, then to PDF bytes."""
    return html_to_pdf(render_to_string(template_name, context))
