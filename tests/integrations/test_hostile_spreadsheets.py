"""Control 7, hostile spreadsheets: an XLSX upload is checked on its structure (zip directory,
uncompressed size, ratio, shared-string count, declared cells) in a killable child before
anything parses it; a bomb gets 400 and nothing is stored; the request thread never opens the
workbook (openpyxl runs in the import job, which counts cells as it reads). Files are
generated here."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from backend.common.models import AuditEvent
from backend.customers.models import Customer
from backend.integrations.models import ImportBatch
from tests.integrations import hostile_xlsx as hx

pytestmark = pytest.mark.django_db


@pytest.fixture
def upload(api, django_capture_on_commit_callbacks):
    def _upload(content: bytes, name: str = "legacy.xlsx"):
        f = io.BytesIO(content)
        f.name = name
        with django_capture_on_commit_callbacks(execute=True):
            return api("officer.sz").post("/api/integrations/imports/", {"file": f}, format="multipart")

    return _upload


@pytest.fixture
def limits(settings):
    def _limits(**values):
        settings.CUSTFLOW = {
            **settings.CUSTFLOW,
            "XLSX_LIMITS": {**settings.CUSTFLOW["XLSX_LIMITS"], **values},
        }

    return _limits


def nothing_stored() -> bool:
    return (
        not ImportBatch.objects.exists()
        and not AuditEvent.objects.filter(action__startswith="import.").exists()
        and Customer.objects.count() == 0
    )


def refused(resp, words: str) -> None:
    assert resp.status_code == 400, resp.content[:300]
    message = " ".join(resp.json()["file"])
    assert words in message, message
    assert nothing_stored()


def test_three_million_shared_strings_are_refused_before_openpyxl(upload):
    """The attacker's file: 125 KB, 3 M shared strings (openpyxl: ~50 s before the first row)."""
    refused(upload(hx.xlsx(shared_strings=3_000_000)), "超出导入限制")


def test_too_many_shared_strings(upload, limits):
    limits(MAX_SHARED_STRINGS=100_000)
    refused(upload(hx.xlsx(shared_strings=120_000, distinct=True)), "共享字符串超过 100000 个")
    assert upload(hx.xlsx(shared_strings=90_000, distinct=True)).status_code == 202


def test_too_large_once_uncompressed(upload, limits):
    limits(MAX_UNCOMPRESSED_BYTES=1024 * 1024)
    refused(upload(hx.xlsx(shared_strings=100_000, distinct=True)), "解压后")


def test_a_zip_bomb_ratio(upload):
    refused(upload(hx.xlsx(padding_bytes=50 * 1024 * 1024)), "压缩比异常")


def test_too_many_zip_entries(upload, limits):
    limits(MAX_ENTRIES=100)
    refused(upload(hx.xlsx(extra_entries=200)), "个压缩条目")


def test_declared_cells(upload):
    refused(upload(hx.xlsx(sheet=hx.sheet_xml(dimension="A1:XFD1048576"))), "个单元格")


def test_a_check_that_does_not_end_in_time_refuses_the_file(upload, limits):
    limits(SECONDS=0.02, MAX_SHARED_STRINGS=10_000_000)
    refused(upload(hx.xlsx(shared_strings=1_000_000, distinct=True)), "限定时间")


def test_the_upload_request_never_parses_the_workbook(upload):
    """A broken shared-strings part: openpyxl fails on it as soon as it opens the workbook.
    The upload is accepted (202: the request only looked at the structure) and the import job,
    which parses, fails the batch with a clear message; nothing is imported."""
    content = hx.xlsx(shared_strings=3, shared_strings_end=b"<si><t>broken</si></t>")
    resp = upload(content)
    assert resp.status_code == 202, resp.content[:300]
    batch = ImportBatch.objects.get()
    assert batch.status == "failed"
    assert "XLSX 文件无法读取" in batch.message
    assert Customer.objects.count() == 0


def test_the_import_job_counts_cells_as_it_reads(upload, limits):
    """A sheet without <dimension> passes the upload check; the job stops at MAX_CELLS."""
    rows = hx.HEADER_ROW + "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>x</t></is></c></row>' for n in range(2, 40)
    )
    sheet = hx.sheet_xml(rows=rows).replace('<dimension ref="A1:C1"/>', "")
    limits(MAX_CELLS=30)
    resp = upload(hx.xlsx(sheet=sheet))
    assert resp.status_code == 202
    batch = ImportBatch.objects.get()
    assert batch.status == "failed" and "超过 30 个单元格" in batch.message
    assert Customer.objects.count() == 0


def test_the_web_page_shows_the_refusal(demo):
    client = Client()
    assert client.login(username="officer.sz", password="demo-pass-2026")
    resp = client.post(
        "/imports/", {"file": SimpleUploadedFile("legacy.xlsx", hx.xlsx(shared_strings=3_000_000))}
    )
    assert resp.status_code == 400
    assert "超出导入限制" in resp.content.decode()
    assert nothing_stored()
