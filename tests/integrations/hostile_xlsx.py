"""Hostile XLSX files, generated in the test (nothing large is committed)."""

from __future__ import annotations

import io
import zipfile

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>id_type</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>id_number</t></is></c></row>'
)


def sheet_xml(rows: str = HEADER_ROW, dimension: str = "A1:C1") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    )


def xlsx(
    *,
    shared_strings: int = 0,
    sheet: str | None = None,
    extra_entries: int = 0,
    padding_bytes: int = 0,
    distinct: bool = False,
    shared_strings_end: bytes = b"</sst>",
) -> bytes:
    """A minimal workbook; `shared_strings` tiny strings (streamed into the zip, ~17 bytes each
    before compression; `distinct`: each one different, so they compress like real text),
    `extra_entries` empty parts, `padding_bytes` of spaces in one part."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet if sheet is not None else sheet_xml())
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=False) as part:
            part.write(
                b'<?xml version="1.0" encoding="UTF-8"?>'
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            )
            if distinct:
                for start in range(0, shared_strings, 10_000):
                    stop = min(start + 10_000, shared_strings)
                    part.write(
                        b"".join(b"<si><t>%x</t></si>" % (i * 2654435761 % 2**32) for i in range(start, stop))
                    )
            else:
                block = b"<si><t>a</t></si>" * 10_000
                for _ in range(shared_strings // 10_000):
                    part.write(block)
                part.write(b"<si><t>a</t></si>" * (shared_strings % 10_000))
            part.write(shared_strings_end)
        for i in range(extra_entries):
            archive.writestr(f"xl/media/e{i}.xml", "")
        if padding_bytes:
            with archive.open("xl/padding.xml", "w") as part:
                chunk = b" " * (1024 * 1024)
                for _ in range(padding_bytes // len(chunk)):
                    part.write(chunk)
    return buf.getvalue()
