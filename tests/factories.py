"""Test data builders shared across the suite."""

from __future__ import annotations

import io
import itertools
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"
_serial = itertools.count(100)


def resident_id(region: str = "440305", birth: date = date(1985, 6, 15), serial: int | None = None) -> str:
    """A valid 18-digit resident id (GB 11643 check digit) for a made-up person."""
    seq = f"{(serial if serial is not None else next(_serial)) % 1000:03d}"
    body = f"{region}{birth:%Y%m%d}{seq}"
    return body + _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def png_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 220, 240)).save(buf, format="PNG")
    return buf.getvalue()


def scan_upload(name: str = "id.png", content: bytes | None = None, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes() if content is None else content, content_type=content_type)


# 证件有效期 of the advanced-level openings the tests make (required for resident ids there).
ID_VALID_UNTIL = "2041-06-30"


def opening_payload(level: str = "advanced", **overrides) -> dict:
    data = {
        "info_level": level,
        "name": "王小明",
        "id_type": "resident_id",
        "id_number": resident_id(),
        "scan": scan_upload(),
    }
    if level == "advanced":
        data.update(
            phone="13812345678", address="深圳市南山区科技园 1 号", email="wang@example.com", id_valid_until=ID_VALID_UNTIL
        )
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def uscc(body: str = "91440300MA5DC0QX0") -> str:
    """A unified social credit code with its GB 32100 check character (17-character body)."""
    from stdnum.cn import uscc as stdnum_uscc

    return body + stdnum_uscc.calc_check_digit(body)


def org_code(body: str = "MA5DC0QX") -> str:
    from backend.customers.validators import org_code_check_character

    return body + org_code_check_character(body)


def corporate_payload(level: str = "advanced", **overrides) -> dict:
    data = {
        "customer_type": "corporate",
        "info_level": level,
        "name": "深圳市示例科技有限公司",
        "id_type": "uscc",
        "id_number": uscc(),
        "scan": scan_upload("licence.png"),
    }
    if level == "advanced":
        data.update(
            legal_rep_name="李法人",
            legal_rep_id_type="resident_id",
            legal_rep_id_number=resident_id(birth=date(1975, 2, 3)),
            address="深圳市南山区科技园 2 号",
            contact_person="赵联系",
            phone="075512345678",
            email="contact@example.com",
        )
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
