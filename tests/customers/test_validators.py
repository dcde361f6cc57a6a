"""Tests for backend.customers.validators (pure functions, no database)."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile
from stdnum.cn import ric

from backend.common.exceptions import InvalidValue
from backend.customers.validators import (
    ID_TYPES,
    IdInfo,
    ScanInfo,
    inspect_scan,
    is_known_region,
    is_mobile,
    normalize_phone,
    validate_email_address,
    validate_id_number,
)

TODAY = date(2024, 6, 1)


def make_resident_id(region: str, birth: str, seq: str = "123") -> str:
    """A synthetic (not anybody's) resident id with a correct GB 11643 check digit."""
    body = f"{region}{birth}{seq}"
    assert len(body) == 17
    return body + ric.calc_check_digit(body + "0")


def code_of(id_type: str, raw: str) -> str:
    with pytest.raises(InvalidValue) as exc:
        validate_id_number(id_type, raw, today=TODAY)
    assert exc.value.message  # always a message for the user
    return exc.value.code


# --- resident id ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "birth", "seq", "gender"),
    [
        ("440305", "19900307", "123", "M"),  # Shenzhen Nanshan
        ("110101", "19851231", "002", "F"),  # Beijing Dongcheng
        ("110101", "19000101", "011", "M"),  # the earliest accepted birth date
        ("440305", "20000229", "020", "F"),  # leap day in a leap century year
        ("440305", "19960229", "031", "M"),
    ],
)
def test_resident_id_valid(region, birth, seq, gender):
    number = make_resident_id(region, birth, seq)
    info = validate_id_number("resident_id", number, today=TODAY)
    assert info == IdInfo(
        normalized=number,
        birth_date=date(int(birth[:4]), int(birth[4:6]), int(birth[6:])),
        gender=gender,
    )


def test_resident_id_region_created_after_birth_year_is_accepted():
    # 110118 is 密云区 in stdnum's cn/loc.dat, marked "[2015-]" (密云县 became a district in
    # 2015). A customer born in 1980 whose card was (re)issued in Miyun after 2015 holds 110118.
    # stdnum's own validate() rejects that (the code did not exist in 1980); we must not.
    number = make_resident_id("110118", "19800101", "002")
    assert not ric.is_valid(number)
    info = validate_id_number("resident_id", number, today=TODAY)
    assert info.normalized == number
    assert info.birth_date == date(1980, 1, 1)
    assert info.gender == "F"


def test_resident_id_region_abolished_before_birth_is_accepted():
    # 110103 was 崇文区 "[-2010]": still a known code of some period.
    number = make_resident_id("110103", "20120505", "001")
    assert validate_id_number("resident_id", number, today=TODAY).normalized == number


def test_resident_id_check_digit_x_and_lower_case_x():
    number = next(
        n
        for n in (make_resident_id("440305", "19900307", f"{seq:03d}") for seq in range(1000))
        if n.endswith("X")
    )
    assert validate_id_number("resident_id", number, today=TODAY).normalized == number
    assert validate_id_number("resident_id", number.lower(), today=TODAY).normalized == number


def test_resident_id_spaces_full_width_spaces_and_full_width_digits():
    number = make_resident_id("440305", "19900307", "123")
    spaced = f" {number[:6]} {number[6:14]}\t{number[14:]} "
    full_width_spaces = f"{number[:6]}\u3000{number[6:14]}\u3000{number[14:]}\u3000"
    full_width_digits = "".join(chr(ord(c) + 0xFEE0) for c in number)
    for raw in (spaced, full_width_spaces, full_width_digits):
        assert validate_id_number("resident_id", raw, today=TODAY).normalized == number


def test_resident_id_legacy_15_digit():
    with pytest.raises(InvalidValue) as exc:
        validate_id_number("resident_id", "440305900307123", today=TODAY)
    assert exc.value.code == "legacy_15_digit"
    assert exc.value.message == "15位旧身份证号码已停用,请使用18位身份证号码"


@pytest.mark.parametrize(
    "raw",
    [
        "44030519900307123",  # 17 chars
        "4403051990030712345",  # 19 chars
        "44030519900307A234",  # letter inside
        "X40305199003071234",
        "440305-19900307-1234",  # dashes are not separators here
        "44030519900307123Y",
    ],
)
def test_resident_id_bad_format(raw):
    assert code_of("resident_id", raw) == "invalid_format"


def test_resident_id_bad_check_digit():
    number = make_resident_id("440305", "19900307", "123")
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert code_of("resident_id", wrong) == "bad_check_digit"


@pytest.mark.parametrize("birth", ["19000229", "20230229", "19901301", "19900431", "19900000"])
def test_resident_id_impossible_date(birth):
    assert code_of("resident_id", make_resident_id("440305", birth)) == "invalid_birth_date"


def test_resident_id_future_birth_date():
    assert code_of("resident_id", make_resident_id("440305", "20240602")) == "future_birth_date"
    # born today is fine
    info = validate_id_number("resident_id", make_resident_id("440305", "20240601"), today=TODAY)
    assert info.birth_date == TODAY


def test_resident_id_before_1900():
    assert code_of("resident_id", make_resident_id("440305", "18991231")) == "birth_date_too_early"


@pytest.mark.parametrize("region", ["119999", "990000", "000000", "449999"])
def test_resident_id_unknown_region(region):
    assert code_of("resident_id", make_resident_id(region, "19900307")) == "unknown_region"


def test_is_known_region():
    assert is_known_region("440305")
    assert is_known_region("110118")
    assert not is_known_region("119999")
    assert not is_known_region("4403")
    assert not is_known_region("abcdef")


def test_resident_id_defaults_to_today():
    info = validate_id_number("resident_id", make_resident_id("440305", "19900307"))
    assert info.birth_date == date(1990, 3, 7)


# --- other id types ---------------------------------------------------------------------


def test_unknown_id_type_and_empty_value():
    with pytest.raises(InvalidValue) as exc:
        validate_id_number("driving_licence", "123456")
    assert exc.value.code == "unknown_id_type"
    assert ID_TYPES == tuple(
        "resident_id passport hk_macau_permit taiwan_permit foreign_permanent_resident uscc org_code".split()
    )
    for id_type in ID_TYPES:
        assert code_of(id_type, " \u3000 ") == "required"


VALID_OTHER_IDS = {
    "passport": ["E12345678", "g 1234 5678", "ea1234567", "123456789", "X1234", "AB1234567890CDEFG"],
    "hk_macau_permit": ["H12345678", "m 1234 5678", "H1234567890"],
    "taiwan_permit": ["12345678", "1234567890"],
    "foreign_permanent_resident": ["usa110123456789", "CHN\u3000440185061512"],
}


@pytest.mark.parametrize(
    ("id_type", "raw"), [(t, raw) for t, raws in VALID_OTHER_IDS.items() for raw in raws]
)
def test_other_id_types_valid(id_type, raw):
    info = validate_id_number(id_type, raw, today=TODAY)
    normalized = raw.replace(" ", "").replace("\u3000", "").upper()
    assert info == IdInfo(normalized=normalized, birth_date=None, gender=None)


# too short, too long, no digit, punctuation, non-ASCII letters / wrong prefix, wrong lengths
INVALID_OTHER_IDS = {
    "passport": ["E123", "AB1234567890CDEFGH", "ABCDEFGHI", "E1234-5678", "E1234.5678", "护照12345"],
    "hk_macau_permit": ["12345678", "C12345678", "H1234567", "H123456789", "H12345678901"],
    "taiwan_permit": ["1234567", "123456789", "T12345678", "12345678901"],
    # 2 letters + 13 digits; 3 letters + 11 digits; 18 chars not starting with 9
    "foreign_permanent_resident": ["US1101234567890", "USA11012345678", "81101101990030712X"],
}


@pytest.mark.parametrize(
    ("id_type", "raw"), [(t, raw) for t, raws in INVALID_OTHER_IDS.items() for raw in raws]
)
def test_other_id_types_invalid(id_type, raw):
    assert code_of(id_type, raw) == "invalid_format"


def test_foreign_permanent_resident_new_format():
    # 9 + province 11 + nationality 840 + birth 19850615 + sequence 012 + check digit
    body = "911840198506150" + "12"
    number = body + ric.calc_check_digit(body + "0")
    info = validate_id_number("foreign_permanent_resident", number.lower(), today=TODAY)
    assert info.normalized == number
    assert info.birth_date == date(1985, 6, 15)
    assert info.gender is None
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert code_of("foreign_permanent_resident", wrong) == "bad_check_digit"


# --- phones and e-mail ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "e164", "mobile"),
    [
        ("13800138000", "+8613800138000", True),
        ("138 0013 8000", "+8613800138000", True),
        ("138-0013-8000", "+8613800138000", True),
        ("+86 138-0013-8000", "+8613800138000", True),
        ("008613800138000", "+8613800138000", True),
        ("\uff11\uff13\uff18\uff10\uff10\uff11\uff13\uff18\uff10\uff10\uff10", "+8613800138000", True),
        ("010-12345678", "+861012345678", False),  # Beijing landline with area code
        ("0755 8888 8888", "+8675588888888", False),  # Shenzhen landline
        ("+852 9123 4567", "+85291234567", True),  # Hong Kong mobile
    ],
)
def test_normalize_phone_valid(raw, e164, mobile):
    assert normalize_phone(raw) == e164
    assert is_mobile(e164) is mobile


@pytest.mark.parametrize(
    "raw", ["", "   ", "12345", "1380013800", "138001380001", "abc", "95511", "+86", "1" * 40]
)
def test_normalize_phone_invalid(raw):
    with pytest.raises(InvalidValue) as exc:
        normalize_phone(raw)
    assert exc.value.code == "invalid_phone"
    assert "电话号码" in exc.value.message


def test_is_mobile_on_garbage():
    assert is_mobile("not a number") is False


def test_validate_email_address():
    assert validate_email_address("  Zhang.San@Example.COM ") == "Zhang.San@example.com"
    assert validate_email_address("li@mail.example.cn") == "li@mail.example.cn"
    for raw in ("", "zhang", "zhang@", "@example.com", "a b@example.com", "zhang@@example.com"):
        with pytest.raises(InvalidValue) as exc:
            validate_email_address(raw)
        assert exc.value.code == "invalid_email"


# --- scans ------------------------------------------------------------------------------

MB = 1024 * 1024


def image_bytes(fmt: str, size=(40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buf, format=fmt)
    return buf.getvalue()


def png_with_declared_size(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims a huge size (a decompression-bomb header)."""
    data = image_bytes("PNG", (1, 1))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    patched = struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return data[:8] + patched + data[8 + 25 :]


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def scan_code(fileobj, max_bytes=5 * MB) -> InvalidValue:
    with pytest.raises(InvalidValue) as exc:
        inspect_scan(fileobj, max_bytes=max_bytes)
    return exc.value


@pytest.mark.parametrize(
    ("content", "content_type", "extension"),
    [
        (image_bytes("PNG"), "image/png", "png"),
        (image_bytes("JPEG"), "image/jpeg", "jpg"),
        (PDF_BYTES, "application/pdf", "pdf"),
    ],
)
def test_inspect_scan_accepts_by_content(content, content_type, extension):
    # The name and declared type lie on purpose: only the content counts.
    upload = SimpleUploadedFile("scan.txt", content, content_type="text/plain")
    info = inspect_scan(upload, max_bytes=5 * MB)
    assert info == ScanInfo(
        content_type=content_type,
        extension=extension,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    assert upload.tell() == 0
    plain = io.BytesIO(content)
    plain.read(3)  # not at the start: inspect_scan rewinds before and after
    assert inspect_scan(plain, max_bytes=5 * MB) == info
    assert plain.tell() == 0


def test_inspect_scan_text_renamed_png():
    upload = SimpleUploadedFile("scan.png", b"just some text, not an image", content_type="image/png")
    err = scan_code(upload)
    assert err.code == "scan_type"
    assert err.message == "扫描件须为 PDF、JPEG 或 PNG 文件"
    assert upload.tell() == 0


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n" + b"garbage" * 20,  # PNG signature, broken body
        image_bytes("PNG")[:-30],  # truncated PNG
        b"\xff\xd8\xff" + b"\x00" * 50,  # JPEG magic, no image
        image_bytes("JPEG", (300, 300))[:20_000],  # truncated JPEG (Pillow's verify() misses it)
        b"GIF89a" + b"\x00" * 50,
        b"PK\x03\x04" + b"\x00" * 50,  # a zip / docx
        b"<html>%PDF-1.4</html>",  # magic not at the start
        b"\xff\xd8\xff\xe0" + image_bytes("PNG"),  # JPEG magic in front of a PNG
    ],
)
@pytest.mark.parametrize("load_truncated", [False, True])  # True once WeasyPrint is imported
def test_inspect_scan_rejects_fakes(content, load_truncated, monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", load_truncated)
    assert scan_code(io.BytesIO(content)).code == "scan_type"


@pytest.mark.parametrize("dims", [(9_000, 9_000), (10_000, 9_000), (20_000, 20_000)])
def test_inspect_scan_decompression_bomb(dims):
    # 81 MP: over our 80 MP cap only; 90 MP: also a Pillow DecompressionBombWarning;
    # 400 MP: over Pillow's DecompressionBombError limit.
    err = scan_code(io.BytesIO(png_with_declared_size(*dims)))
    assert err.code == "scan_too_large"
    assert "像素" in err.message


def test_inspect_scan_too_large_stops_reading():
    class Endless(io.RawIOBase):
        read_bytes = 0

        def readable(self):
            return True

        def read(self, n=-1):
            n = 64 * 1024 if n is None or n < 0 else n
            self.read_bytes += n
            return PDF_BYTES[:5] + b"0" * (n - 5)

    stream = Endless()
    err = scan_code(stream, max_bytes=2 * MB)
    assert err.code == "scan_too_large"
    assert "2 MB" in err.message
    assert stream.read_bytes <= 2 * MB + 128 * 1024


def test_inspect_scan_too_large_names_fractional_limit():
    err = scan_code(io.BytesIO(PDF_BYTES + b"0" * MB), max_bytes=MB // 2)
    assert err.code == "scan_too_large"
    assert "0.5 MB" in err.message


def test_inspect_scan_exact_limit_is_accepted():
    content = PDF_BYTES + b"0" * (1000 - len(PDF_BYTES))
    assert inspect_scan(io.BytesIO(content), max_bytes=1000).size == 1000
    content = PDF_BYTES + b"0" * (300 * 1024)  # several chunks
    assert inspect_scan(io.BytesIO(content), max_bytes=MB).size == len(content)


def test_inspect_scan_empty():
    err = scan_code(SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf"))
    assert err.code == "missing_scan"
    assert scan_code(io.BytesIO()).code == "missing_scan"
