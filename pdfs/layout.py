"""Measuring a printed form: does every piece of text stay inside the box drawn around it?

Lays the document out with WeasyPrint (the same fonts and stylesheet as the printed PDF) and
walks each page's box tree. A text run is checked against its nearest enclosing "frame": a
table cell, a box with a border and a fixed size (the seal), and finally the page's content
area. Anything that sticks out by more than a hair is reported, with the text and how far, and
so is any text that runs under the seal or the copy mark laid over the header.
Used by the rendering tests (tests/pdfs/test_form_layout.py); nothing here runs in production.
"""

from __future__ import annotations

from dataclasses import dataclass

from weasyprint import HTML
from weasyprint.formatting_structure import boxes
from weasyprint.urls import path2url

from pdfs.rendering import _RENDER_LOCK, FONT_CONFIG, STATIC_DIR, StaticOnlyFetcher

__all__ = ["Overflow", "layout_overflows"]

PX_PER_MM = 96 / 25.4
STAMPS = {"doc-seal", "doc-copy"}
TOLERANCE_PX = 0.5


@dataclass(frozen=True)
class Overflow:
    page: int
    text: str
    frame: str  # what it should stay inside: "cell", "seal", "page"
    side: str  # "right", "left", "bottom", "top", "under the seal"
    by_mm: float

    def __str__(self) -> str:
        if self.side == "under the seal":
            return f"page {self.page}: “{self.text}” runs under the seal"
        return f"page {self.page}: “{self.text}” sticks out of its {self.frame} on the {self.side} by {self.by_mm:.1f} mm"


def _classes(box) -> set[str]:
    element = getattr(box, "element", None)
    if element is None:
        return set()
    return set((element.get("class") or "").split())


def _is_frame(box) -> str | None:
    if isinstance(box, boxes.TableCellBox):
        return "cell"
    if "doc-seal" in _classes(box):
        return "seal"
    return None


def _inner(box) -> tuple[float, float, float, float]:
    """The area inside the frame's borders: (left, top, right, bottom)."""
    left = box.border_box_x() + box.border_left_width
    top = box.border_box_y() + box.border_top_width
    right = box.border_box_x() + box.border_width() - box.border_right_width
    bottom = box.border_box_y() + box.border_height() - box.border_bottom_width
    return left, top, right, bottom


def _stamps(box, found):
    """The boxes laid over the page (the seal, the copy mark): nothing else may run under them."""
    if _classes(box) & STAMPS:
        found.append(box)
        return
    for child in getattr(box, "children", None) or []:
        _stamps(child, found)


def _under(box, stamps) -> bool:
    for stamp in stamps:
        left, top, right, bottom = _inner(stamp)
        if (
            box.position_x < right
            and box.position_x + box.width > left
            and box.position_y < bottom
            and box.position_y + box.height > top
        ):
            return True
    return False


def _walk(box, frame, frame_kind, page_number, found, stamps=(), page_area=None):
    kind = _is_frame(box)
    if kind == "cell" and page_area is not None:
        # A cell (with its borders) stays on the page: a table wider than the page is cut off.
        by = box.border_box_x() + box.border_width() - page_area[2]
        if by > TOLERANCE_PX:
            text = "".join(b.text for b in box.descendants() if isinstance(b, boxes.TextBox)).strip()
            found.append(Overflow(page_number, text[:40], "page", "right", by / PX_PER_MM))
    if kind:
        frame, frame_kind = box, kind
    if _classes(box) & STAMPS:
        stamps = ()  # a stamp's own text
    if isinstance(box, boxes.TextBox) and box.text.strip():
        if _under(box, stamps):
            found.append(Overflow(page_number, box.text.strip()[:40], "page", "under the seal", 0.0))
        left, top, right, bottom = _inner(frame)
        x, y = box.position_x, box.position_y
        sides = {
            "right": x + box.width - right,
            "left": left - x,
            "bottom": (y + box.height - bottom) if frame_kind != "cell" else 0,  # cells grow with their text
            "top": top - y,
        }
        for side, by in sides.items():
            if by > TOLERANCE_PX:
                found.append(Overflow(page_number, box.text.strip()[:40], frame_kind, side, by / PX_PER_MM))
    for child in getattr(box, "children", None) or []:
        _walk(child, frame, frame_kind, page_number, found, stamps, page_area)


def layout_overflows(html: str) -> list[Overflow]:
    """Every text run of the laid-out document that leaves its cell, seal or page area."""
    document = HTML(string=html, base_url=path2url(STATIC_DIR), url_fetcher=StaticOnlyFetcher())
    with _RENDER_LOCK:
        rendered = document.render(font_config=FONT_CONFIG)
    found: list[Overflow] = []
    for number, page in enumerate(rendered.pages, start=1):
        page_box = page._page_box
        # The page's content area is the frame of everything that is in no other frame.
        stamps: list = []
        _stamps(page_box, stamps)
        for child in page_box.children:
            if isinstance(child, boxes.MarginBox):
                continue  # running header and footer: in the page margins by design
            _walk(child, page_box, "page", number, found, stamps, _inner(page_box))
    return found
