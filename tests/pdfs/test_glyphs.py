"""Every character a form prints has a real glyph: each distinct character of a form's text is
drawn in its own cell (both form fonts), turned into PNG with pdftoppm, and compared with the
.notdef box that a character without a glyph gets."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from PIL import Image, ImageChops

from pdfs.documents import card_context, change_request_context, endorsement_context, opening_form_context
from pdfs.rendering import html_to_pdf
from tests.pdfs.test_rendering import make_card

# Characters with no glyph in Noto CJK and its fallbacks: the .notdef references.
NO_GLYPH = ["\ue000", "\U0010fffd", "\u0378"]
CELL_PT = 36  # at 72 dpi one cell is exactly 36 × 36 pixels: every cell renders alike
PER_ROW = 14
DPI = 72


def _pdftoppm() -> str:
    path = shutil.which("pdftoppm")
    if path is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    return path


def _cells(chars: list[str], family: str, tmp_path: Path) -> list[Image.Image]:
    boxes = "".join(
        f'<div style="left:{(i % PER_ROW) * CELL_PT}pt;top:{(i // PER_ROW) * CELL_PT}pt">{html.escape(c)}</div>'
        for i, c in enumerate(chars)
    )
    rows = (len(chars) + PER_ROW - 1) // PER_ROW
    doc = f"""<html><head><style>
      @page {{ size: {PER_ROW * CELL_PT}pt {rows * CELL_PT}pt; margin: 0 }}
      body {{ margin: 0; font-family: "{family}" }}
      div {{ position: absolute; width: {CELL_PT}pt; height: {CELL_PT}pt; font-size: 24pt;
             line-height: {CELL_PT}pt; text-align: center; overflow: hidden }}
    </style></head><body>{boxes}</body></html>"""
    source = tmp_path / "cells.pdf"
    source.write_bytes(html_to_pdf(doc))
    subprocess.run(
        [_pdftoppm(), "-r", str(DPI), "-png", "-singlefile", str(source), str(tmp_path / "cells")], check=True
    )
    image = Image.open(tmp_path / "cells.png").convert("L")
    px = CELL_PT
    return [
        image.crop(((i % PER_ROW) * px, (i // PER_ROW) * px, (i % PER_ROW + 1) * px, (i // PER_ROW + 1) * px))
        for i in range(len(chars))
    ]


def missing_glyphs(text: str, family: str, tmp_path: Path) -> list[str]:
    chars = sorted({c for c in text if not c.isspace() and ord(c) > 0x7F})
    cells = _cells(NO_GLYPH + chars, family, tmp_path)
    references, drawn = cells[: len(NO_GLYPH)], cells[len(NO_GLYPH) :]
    return [
        c
        for c, cell in zip(chars, drawn, strict=True)
        if any(ImageChops.difference(cell, r).getbbox() is None for r in references)
    ]


def _text(template: str, context: dict) -> str:
    body = render_to_string(template, context).split("<body", 1)[1]
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def _forms() -> dict[str, str]:
    card = make_card()
    card["copy_number"] = 2
    change = {
        "document_id": "d",
        "org_unit": "广州市分公司",
        "case_id": 7,
        "customer_id": 9,
        "customer_name": "欧阳娜娜",
        "scope_label": "身份信息变更",
        "status_label": "待审核",
        "reason": "客户更正姓名",
        "requested_by": "钱七",
        "changes": [{"label": "客户名称", "old": "欧阳娜", "new": "欧阳娜娜"}],
        "trail": card["trail"],
        "copy_number": 1,
    }
    endorsement = {
        "document_id": "e",
        "org_unit": "广东省分公司",
        "endorsement": {
            "policy_number": "P2026-0001",
            "product": "终身寿险",
            "policyholder": "诸葛亮",
            "insured": "黄月英",
            "reason": "投保人变更联系地址",
            "decision_comment": "同意",
        },
        "customer_parts": [
            {
                "role_label": "投保人",
                "name": "诸葛亮",
                "changes": [{"label": "联系地址", "old": "南阳卧龙岗", "new": "成都武侯祠"}],
            }
        ],
        "policy_changes": [{"label": "受益人", "old": "诸葛瞻", "new": "诸葛乔"}],
        "beneficiaries": {
            "old": [{"name": "诸葛瞻", "share": "100%"}],
            "new": [{"name": "诸葛乔", "share": "100%"}],
        },
        "flags": ["证件号码命中黑名单"],
        "trail": card["trail"],
    }
    return {
        "collection_card": _text("pdfs/collection_card.html", card_context(card)),
        "change_request": _text("pdfs/change_request.html", change_request_context(change)),
        "endorsement_form": _text("pdfs/endorsement_form.html", endorsement_context(endorsement)),
        "opening_form": _text(
            "pdfs/opening_form.html",
            opening_form_context(
                {
                    "document_id": "o",
                    "title": "法人客户开户申请表",
                    "org_unit": "深圳市分公司",
                    "opening_id": 12,
                    "info_level_label": "高级程度",
                    "submitted_by": "赵采集",
                    "status_label": "待审核",
                    "customer": card["customer"],
                    "checks": {"A": "通过", "B": "通过", "C": "通过", "D": "未通过(已提示审核人)", "blacklist": "未命中"},
                    "flags": ["电话号码与其他客户或业务员相同"],
                    "decision_comment": "同意开户",
                    "trail": card["trail"],
                    "copy_number": 1,
                }
            ),
        ),
    }


@pytest.mark.parametrize("family", ["Noto Sans CJK SC", "Noto Serif CJK SC"])
def test_every_character_of_every_form_has_a_glyph(family, tmp_path):
    forms = _forms()
    text = "".join(forms.values()) + "第页共副本份电子签章"  # margin boxes, seal and copy mark
    assert "副本 第2份" in forms["collection_card"] and "诸葛亮" in forms["endorsement_form"]
    assert len({c for c in text if ord(c) > 0x7F}) > 150
    assert missing_glyphs(text, family, tmp_path) == []


def test_the_check_finds_a_character_without_a_glyph(tmp_path):
    # U+20000 (CJK extension B) is not in Noto Sans CJK SC: the check must catch it.
    assert missing_glyphs("客户\U00020000卡", "Noto Sans CJK SC", tmp_path) == ["\U00020000"]
