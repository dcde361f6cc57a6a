"""Control 1 (uploads that are parsed): a scan image is decoded in a killable child. A 30 KB
progressive JPEG that repeats one scan thousands of times stays far below the pixel cap but
keeps libjpeg busy for many seconds; it is refused (400 on `scan`) and nothing is stored."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from backend.common.exceptions import InvalidValue
from backend.customers.models import AccountOpening, Customer
from backend.customers.validators import inspect_scan
from tests.factories import scan_upload

MB = 1024 * 1024


def many_scans_jpeg(size: int = 2000, repeats: int = 3000) -> bytes:
    """A valid progressive JPEG whose last scan is repeated `repeats` times (each ~14 bytes,
    each a full pass over the image's coefficients)."""
    buf = io.BytesIO()
    Image.new("L", (size, size), 0).save(buf, "JPEG", progressive=True, quality=50)
    data = buf.getvalue()
    at, last = 2, None
    while data[at + 1] != 0xD9:
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if data[at + 1] == 0xDA:  # SOS: entropy-coded data up to the next real marker
            end = at + 2 + length
            while not (data[end] == 0xFF and data[end + 1] != 0x00 and not 0xD0 <= data[end + 1] <= 0xD7):
                end += 1
            last = (at, end)
            at = end
        else:
            at += 2 + length
    assert last is not None
    start, end = last
    return data[:end] + data[start:end] * repeats + data[end:]


def test_a_jpeg_with_thousands_of_scans_is_refused():
    content = many_scans_jpeg()
    assert len(content) < 64 * 1024
    with pytest.raises(InvalidValue) as err:
        inspect_scan(io.BytesIO(content), max_bytes=5 * MB)
    assert err.value.code == "scan_too_complex"


def test_an_ordinary_progressive_jpeg_is_still_accepted():
    info = inspect_scan(io.BytesIO(many_scans_jpeg(repeats=0)), max_bytes=5 * MB)
    assert info.content_type == "image/jpeg"


@pytest.mark.django_db
def test_an_opening_with_such_a_scan_gets_400_and_stores_nothing(submit):
    resp = submit("primary", scan=scan_upload("id.jpg", many_scans_jpeg(), "image/jpeg"))
    assert resp.status_code == 400, resp.content[:300]
    assert "scan" in resp.json()
    assert Customer.objects.count() == 0 and AccountOpening.objects.count() == 0
