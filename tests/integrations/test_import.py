"""Historical import: per-row results, GBK and XLSX, reviews, re-import creates nothing new,
clear messages for malformed files; command, API and progress."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from backend.customers.models import Customer
from backend.integrations.models import ImportBatch, ImportReview, ImportRow
from processes.models import ProcessInstance
from tests.conftest import inbox
from tests.factories import resident_id

pytestmark = pytest.mark.django_db

HEADER = "姓名,证件类型,证件号码,联系电话,通讯地址\n"


def invalid_id() -> str:
    good = resident_id()
    return good[:-1] + ("1" if good[-1] != "1" else "2")


def csv_bytes(lines: list[str], encoding: str = "utf-8") -> bytes:
    return (HEADER + "\n".join(lines) + "\n").encode(encoding)


@pytest.fixture
def upload(api, django_capture_on_commit_callbacks):
    """upload(content) → the API response; the queued import job runs on commit (eager)."""

    def _upload(content: bytes, name: str = "legacy.csv", user: str = "officer.sz"):
        f = io.BytesIO(content)
        f.name = name
        with django_capture_on_commit_callbacks(execute=True):
            resp = api(user).post("/api/integrations/imports/", {"file": f}, format="multipart")
        if resp.status_code == 202:
            resp = api(user).get(f"/api/integrations/imports/{resp.json()['id']}/")
        return resp

    return _upload


def result_rows(batch_id: int) -> list[tuple]:
    batch = ImportBatch.objects.get(pk=batch_id)
    sheet = load_workbook(batch.result_file.path, read_only=True).worksheets[0]
    return [tuple(r) for r in sheet.iter_rows(values_only=True)]


def test_rows_are_created_reviewed_or_refused_and_every_row_is_in_the_result(api, upload):
    existing = resident_id()
    first = upload(csv_bytes([f"张旧,居民身份证,{existing},13800000011,深圳"]))
    assert first.status_code == 200, first.content
    good, bad_id = resident_id(), invalid_id()
    lines = [
        f"王新,居民身份证,{good},13800000012,深圳市南山区",
        f"张旧,居民身份证,{existing},13800000011,深圳",  # identical: unchanged
        f"张旧改,resident_id,{existing},13800000099,深圳",  # differs: merge review
        f"李坏,居民身份证,{bad_id},,",  # invalid id: suspicious
        f"赵业务,居民身份证,{resident_id()},13900000001,",  # a sales agent's phone: suspicious
        ",居民身份证,,,",  # no name, no number: error
    ]
    resp = upload(csv_bytes(lines))
    body = resp.json()
    assert resp.status_code == 200
    batch = ImportBatch.objects.get(pk=body["id"])
    assert batch.status == "done"
    assert batch.counts == {"created": 1, "unchanged": 1, "merge_review": 1, "suspicious": 2, "error": 1}
    assert list(
        ImportRow.objects.filter(batch=batch).order_by("row_number").values_list("row_number", "outcome")
    ) == [
        (2, "created"),
        (3, "unchanged"),
        (4, "merge_review"),
        (5, "suspicious"),
        (6, "suspicious"),
        (7, "error"),
    ]
    rows = result_rows(batch.pk)
    assert rows[0] == ("行号", "结果", "说明", "客户号", "标记")
    assert rows[5][4] == "shared_phone,agent_phone"  # the sales agent's phone row carries the check flags
    assert [r[0] for r in rows[1:]] == [2, 3, 4, 5, 6, 7]
    assert Customer.objects.filter(id_number=good, status="active").count() == 1
    merge = ImportReview.objects.get(kind="merge")
    assert merge.conflicts == [
        {"field": "name", "current": "张旧", "imported": "张旧改"},
        {"field": "phone", "current": "+8613800000011", "imported": "+8613800000099"},
    ]
    tasks = inbox(api("officer.sz"))
    assert sorted(t["process"] for t in tasks) == ["import_row_review"] * 3
    detail = api("officer.sz").get(f"/api/integrations/imports/{batch.pk}/").json()
    assert detail["percent"] == 100
    assert detail["result_url"] == f"/api/integrations/imports/{batch.pk}/result.xlsx"
    download = api("officer.sz").get(detail["result_url"])
    assert download.status_code == 200
    # Another branch cannot see the batch.
    assert api("officer.gz").get(f"/api/integrations/imports/{batch.pk}/").status_code == 404


def test_reimporting_the_same_file_creates_nothing_new(api, upload):
    lines = [f"王{i},居民身份证,{resident_id()},1380000{i:04d},深圳" for i in range(5)]
    lines.append(f"李坏,居民身份证,{invalid_id()},,")
    content = csv_bytes(lines)
    upload(content)
    customers, reviews, instances = (
        Customer.objects.count(),
        ImportReview.objects.count(),
        ProcessInstance.objects.count(),
    )
    assert (customers, reviews) == (5, 1)
    again = upload(content).json()
    assert again["counts"] == {"unchanged": 5, "suspicious": 1}
    assert Customer.objects.count() == customers
    assert ImportReview.objects.count() == reviews
    assert ProcessInstance.objects.count() == instances


def test_gbk_csv_is_read(api, upload):
    number = resident_id()
    resp = upload(csv_bytes([f"陈广州,居民身份证,{number},13800000013,广州市天河区"], encoding="gbk"))
    assert resp.json()["counts"] == {"created": 1}
    assert Customer.objects.get(id_number=number).name == "陈广州"


def test_xlsx_is_read(api, upload):
    wb = Workbook()
    ws = wb.active
    ws.append(["name", "id_type", "id_number", "phone"])
    number = resident_id(birth=date(1990, 1, 2))
    ws.append(["黄表格", "resident_id", number, 13800000014])
    buf = io.BytesIO()
    wb.save(buf)
    resp = upload(buf.getvalue(), name="legacy.xlsx")
    assert resp.json()["counts"] == {"created": 1}
    assert Customer.objects.get(id_number=number).phone == "+8613800000014"


@pytest.mark.parametrize(
    "content, message",
    [
        ("姓名,电话\n王,1\n".encode(), "缺少必需的列"),
        (b"\x00\x01\x02binary", "文件不是 CSV 或 XLSX 表格"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old excel", "不支持旧版 Excel"),
        (b"PK\x03\x04not really a zip", "XLSX 文件无法读取"),
        (b"", "文件为空"),
    ],
)
def test_malformed_files_get_a_clear_message(api, upload, content, message):
    resp = upload(content)
    if resp.status_code == 400:
        assert message in " ".join(resp.json()["file"])
    else:
        assert resp.json()["status"] == "failed"
        assert message in resp.json()["message"]
    assert Customer.objects.count() == 0


def test_only_officers_import(api, upload):
    assert upload(csv_bytes([]), user="collector.sz").status_code == 403


def test_management_command(tmp_path, demo):
    path = tmp_path / "legacy.csv"
    path.write_bytes(csv_bytes([f"命令行,居民身份证,{resident_id()},,"], encoding="gbk"))
    out = io.StringIO()
    call_command("import_customers", str(path), "--user", "officer.sz", stdout=out)
    assert "1 rows {'created': 1}" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a,b\n1,2\n")
    with pytest.raises(CommandError, match="缺少必需的列"):
        call_command("import_customers", str(bad), "--user", "officer.sz", stdout=io.StringIO())
