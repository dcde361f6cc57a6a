"""准客户 pages: the list with its status tabs and name search, the record form (errors next to
the fields, nothing recorded), the prospect's page with the convert form leading to the opening,
the nav entry for the prospect roles only, and phones masked in the list."""

from __future__ import annotations

import pytest

from backend.customers.models import AccountOpening, Prospect
from tests.factories import resident_id, scan_upload
from tests.web.helpers import html

pytestmark = pytest.mark.django_db


def _form(**over):
    return {"name": "吴准客", "phone": "13522223333", "source": "walk_in", "id_type": "resident_id", "id_number": "", "interest": "年金险", **over}


def test_nav_entry_for_prospect_roles_only(login):
    assert 'data-testid="nav-prospects"' in html(login("collector.sz").get("/inbox/"))
    assert 'data-testid="nav-prospects"' in html(login("manager.sz").get("/inbox/"))
    assert 'data-testid="nav-prospects"' not in html(login("reviewer.sz").get("/inbox/"))
    assert login("reviewer.sz").get("/prospects/").status_code == 403


def test_record_list_mask_and_search(login):
    client = login("collector.sz")
    resp = client.post("/prospects/", _form())
    assert resp.status_code == 302
    prospect = Prospect.objects.get()
    assert resp["Location"].endswith(f"/prospects/{prospect.pk}/")
    client.post("/prospects/", _form(name="郑二", phone="13522224444", source="referral"))
    page = html(client.get("/prospects/"))
    assert "吴准客" in page and "135****3333" in page and "13522223333" not in page
    page = html(client.get("/prospects/", {"q": "郑"}))
    assert "郑二" in page and "吴准客" not in page
    assert "没有符合条件的准客户" in html(client.get("/prospects/", {"status": "expired"}))
    assert client.get("/prospects/", {"q": "13522223333"}).status_code == 400


def test_a_bad_form_comes_back_with_messages_next_to_the_fields(login):
    client = login("collector.sz")
    resp = client.post("/prospects/", _form(name="", phone="123", source="third_party", source_detail=""))
    assert resp.status_code == 400
    page = html(resp)
    assert "请填写姓名" in page and "请输入有效的电话号码" in page and "须取得本人同意" in page
    assert 'open data-testid="prospect-new"' in page or "open" in page
    assert not Prospect.objects.exists()


def test_the_officer_converts_on_the_prospects_page(login):
    collector = login("collector.sz")
    collector.post("/prospects/", _form(id_number=resident_id(serial=77)))
    prospect = Prospect.objects.get()
    officer = login("officer.sz")
    page = html(officer.get(f"/prospects/{prospect.pk}/"))
    assert 'data-testid="prospect-convert-form"' in page and "吴准客" in page
    bad = officer.post(f"/prospects/{prospect.pk}/convert/", {"info_level": "advanced", "name": "吴准客", "id_type": "resident_id"})
    assert bad.status_code == 400 and "请上传证件扫描件" in html(bad)
    resp = officer.post(
        f"/prospects/{prospect.pk}/convert/",
        {"info_level": "advanced", "name": "吴准客", "id_type": "resident_id", "id_valid_long_term": "1", "address": "深圳市罗湖区 3 号", "scan": scan_upload()},
    )
    assert resp.status_code == 302, html(resp)[:2000]
    opening = AccountOpening.objects.get()
    assert opening.collector.username == "collector.sz" and resp["Location"].endswith(f"/customers/{opening.customer_id}/")
    prospect.refresh_from_db()
    assert prospect.status == "converted"
    page = html(collector.get(f"/prospects/{prospect.pk}/"))
    assert 'data-testid="prospect-convert-form"' not in page and "已转开户" in page


def test_outsiders_get_404(login):
    login("collector.sz").post("/prospects/", _form())
    prospect = Prospect.objects.get()
    assert login("collector.gz").get(f"/prospects/{prospect.pk}/").status_code == 404
    assert login("collector.gz").post(f"/prospects/{prospect.pk}/convert/", {}).status_code == 404
