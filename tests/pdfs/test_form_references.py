"""Issue 17 item 8: a rendering test per printed form. Page 1 of each form (realistic values,
tests/pdfs/forms_data.py) is turned into a PNG with pdftoppm and compared with a reviewed
reference in tests/pdfs/references/, with a tolerance for anti-aliasing and font hinting.

After an intended change of a form: CUSTFLOW_UPDATE_REFERENCES=1 pytest tests/pdfs/test_form_references.py
rewrites the references; look at every changed PNG before committing it (git diff shows them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from pdfs.rendering import html_to_pdf
from tests.pdfs import forms_data

REFERENCES = Path(__file__).parent / "references"
DPI = 100
# A pixel differs when its grey level moves by more than PIXEL_DELTA (of 255); a page differs
# when more than MAX_CHANGED_PIXELS do (anti-aliasing noise). One changed character of body
# text changes more (test_the_comparison_sees_a_changed_character), a moved line far more.
PIXEL_DELTA = 48
MAX_CHANGED_PIXELS = 12


def page_one_png(page_html: str, tmp_path: Path, name: str) -> Image.Image:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(html_to_pdf(page_html))
    subprocess.run(
        [
            pdftoppm,
            "-r",
            str(DPI),
            "-f",
            "1",
            "-l",
            "1",
            "-png",
            "-singlefile",
            str(source),
            str(tmp_path / name),
        ],
        check=True,
        timeout=60,
    )
    return Image.open(tmp_path / f"{name}.png").convert("L")


def changed_pixels(actual: Image.Image, expected: Image.Image) -> int:
    if actual.size != expected.size:
        return actual.width * actual.height
    diff = ImageChops.difference(actual, expected).point(lambda v: 255 if v > PIXEL_DELTA else 0)
    return diff.histogram()[255]


@pytest.mark.parametrize("name", sorted(forms_data.form_htmls()))
def test_page_one_matches_its_reviewed_reference(name, tmp_path):
    actual = page_one_png(forms_data.form_htmls()[name], tmp_path, name)
    reference = REFERENCES / f"{name}.png"
    if os.environ.get("CUSTFLOW_UPDATE_REFERENCES") == "1":
        REFERENCES.mkdir(parents=True, exist_ok=True)
        actual.save(reference, optimize=True)
        return
    assert reference.is_file(), (
        f"no reference for {name}: run with CUSTFLOW_UPDATE_REFERENCES=1 and review the PNG"
    )
    expected = Image.open(reference).convert("L")
    changed = changed_pixels(actual, expected)
    if changed > MAX_CHANGED_PIXELS:
        actual.save(tmp_path / f"{name}.actual.png")
        ImageChops.difference(actual, expected).save(tmp_path / f"{name}.diff.png")
    assert changed <= MAX_CHANGED_PIXELS, f"{name}: {changed} pixels of page 1 changed (see {tmp_path})"


def test_the_comparison_sees_a_changed_character(tmp_path):
    page = forms_data.form_htmls()["opening_form_individual"]
    same = page_one_png(page, tmp_path, "a")
    assert changed_pixels(page_one_png(page, tmp_path, "b"), same) == 0
    for i, (old, new) in enumerate(
        [("张三丰", "张三峰"), ("138****8000", "138****8008"), ("高级程度", "中级程度")]
    ):
        other = page_one_png(page.replace(old, new, 1), tmp_path, f"c{i}")
        assert changed_pixels(other, same) > MAX_CHANGED_PIXELS, (old, new, changed_pixels(other, same))
