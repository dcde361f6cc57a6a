"""历史导入 and 数据质量 pages: upload, progress partial (polled), scope; the task page shows
an import review's conflicts field by field."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from backend.integrations.models import ImportBatch
from tasks.models import HumanTask
from tests.factories import resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(demo):
    def _login(username: str) -> Client:
        client = Client()
        assert client.login(username=username, password="demo-pass-2026")
        return client

    return _login


def upload(client, content: bytes, capture):
    with capture(execute=True):
        return client.post("/imports/", {"file": SimpleUploadedFile("legacy.csv", content)})


def test_upload_redirects_to_the_progress_page_and_the_partial_stops_polling_when_done(
    login, django_capture_on_commit_callbacks
):
    officer = login("officer.sz")
    number = resident_id()
    header = "姓名,证件类型,证件号码,联系电话\n"
    upload(
        officer,
        f"{header}王页面,居民身份证,{number},13800000031\n".encode("gbk"),
        django_capture_on_commit_callbacks,
    )
    resp = upload(
        officer,
        f"{header}王页面,居民身份证,{number},13800000032\n".encode("gbk"),
        django_capture_on_commit_callbacks,
    )
    batch = ImportBatch.objects.order_by("id").last()
    assert resp.status_code == 302
    assert resp["Location"] == f"/imports/{batch.pk}/"
    page = officer.get(resp["Location"]).content.decode()
    assert 'data-testid="import-progress"' in page
    partial = officer.get(f"/imports/{batch.pk}/progress/").content.decode()
    assert "hx-trigger" not in partial  # done: no more polling
    assert 'value="100"' in partial
    assert f"/api/integrations/imports/{batch.pk}/result.xlsx" in partial
    assert login("officer.gz").get(f"/imports/{batch.pk}/").status_code == 404
    # The merge review task shows the conflict field by field (phone masked for nobody: officer sees full).
    task = HumanTask.objects.get(process_key="import_row_review")
    task_page = officer.get(f"/tasks/{task.pk}/").content.decode()
    assert 'data-testid="integration-case"' in task_page
    assert "+8613800000031" in task_page and "+8613800000032" in task_page


def test_a_running_batch_keeps_polling(login, users):
    from backend.organisation.models import OrgUnit

    batch = ImportBatch.objects.create(
        org_unit=OrgUnit.objects.get(code="GD-SZ"),
        uploaded_by=users["officer.sz"],
        filename="x.csv",
        sha256="0" * 64,
        status="running",
        size_bytes=1000,
        bytes_read=250,
    )
    partial = login("officer.sz").get(f"/imports/{batch.pk}/progress/").content.decode()
    assert f'hx-get="/imports/{batch.pk}/progress/"' in partial
    assert 'value="25"' in partial


def test_bad_file_shows_the_message_on_the_form(login):
    resp = login("officer.sz").post(
        "/imports/", {"file": SimpleUploadedFile("x.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")}
    )
    assert resp.status_code == 400
    assert "不支持旧版 Excel" in resp.content.decode()


def test_data_quality_page_per_branch(login, users):
    from backend.customers.models import Customer
    from backend.organisation.models import OrgUnit

    sz = OrgUnit.objects.get(code="GD-SZ")
    gz = OrgUnit.objects.get(code="GD-GZ")
    for i in range(3):
        Customer.objects.create(
            name=f"共{i}",
            id_type="resident_id",
            id_number=resident_id(),
            phone="+8613800000040",
            info_level="advanced",
            status="active",
            org_unit=sz,
        )
    Customer.objects.create(
        name="代",
        id_type="resident_id",
        id_number=resident_id(),
        phone="+8613900000001",
        info_level="primary",
        status="active",
        org_unit=sz,
    )
    Customer.objects.create(
        name="广",
        id_type="resident_id",
        id_number=resident_id(),
        info_level="primary",
        status="active",
        org_unit=gz,
    )
    page = login("officer.sz").get("/data-quality/").content.decode()
    assert 'data-testid="quality-GD-SZ"' in page
    assert 'data-testid="quality-GD-GZ"' not in page
    from backend.integrations.quality import data_quality

    (sz_row,) = data_quality(user=users["officer.sz"])
    assert (
        sz_row["total"],
        sz_row["primary"],
        sz_row["advanced"],
        sz_row["unverified"],
        sz_row["agent_phone_customers"],
    ) == (4, 1, 3, 4, 1)
    assert [c["customers"] for c in sz_row["clusters"]] == [3]
    assert sz_row["clusters"][0]["phone"] != "+8613800000040"  # masked
    assert [r["org_unit"] for r in data_quality(user=users["compliance.gd"])] == ["GD-GZ", "GD-SZ"]
