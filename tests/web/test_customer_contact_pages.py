"""联系记录 on the customer page: the form records a contact and shows it in the timeline; a bad
form comes back with the messages next to its fields and nothing recorded; outsiders get the
404 of a missing customer; the static profile is masked for a reviewer."""

from __future__ import annotations

import pytest

from backend.customers.models import Customer, CustomerContact, CustomerFieldChange
from tests.customers.factories import customer_make
from tests.web.helpers import html

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(seeded):
    return customer_make("GD-SZ", employer="深圳市福田区示例贸易有限公司", family_members="配偶李娜,儿子王小东", income_band="10_30")


def test_the_form_records_a_call_and_the_timeline_shows_it(login, customer):
    client = login("officer.sz")
    page = html(client.get(f"/customers/{customer.pk}/"))
    assert 'data-testid="contact-form"' in page and 'data-testid="timeline-empty"' in page
    resp = client.post(
        f"/customers/{customer.pk}/contacts/",
        {"kind": "call", "channel": "hotline", "summary": "客户来电询问保单贷款", "outcome": "已告知办理材料"},
    )
    assert resp.status_code == 302 and resp["Location"].endswith(f"/customers/{customer.pk}/#contacts")
    page = html(client.get(resp["Location"]))
    assert 'data-testid="timeline-contact"' in page
    assert "客户来电询问保单贷款" in page and "来电(客服热线)" in page and "已告知办理材料" in page
    assert CustomerContact.objects.get().recorded_by.username == "officer.sz"


def test_a_bad_form_comes_back_with_field_messages_and_records_nothing(login, customer):
    client = login("officer.sz")
    resp = client.post(
        f"/customers/{customer.pk}/contacts/",
        {"kind": "gossip", "channel": "phone", "summary": "", "outcome": "留言", "next_step_at": "2020-01-01T09:00"},
    )
    assert resp.status_code == 400
    page = html(resp)
    assert 'data-testid="contact-form"' in page
    for message in ("未知的联系类型", "请填写联系要点", "下次跟进时间必须晚于现在"):
        assert message in page
    assert 'value="留言"' in page  # what was typed stays
    assert page.count('class="field has-error"') >= 3
    assert not CustomerContact.objects.exists()


def test_outsiders_get_the_missing_customer_page(login, customer):
    client = login("reviewer.gz")
    assert client.post(f"/customers/{customer.pk}/contacts/", {"kind": "call"}).status_code == 404
    assert client.post("/customers/987654321/contacts/", {"kind": "call"}).status_code == 404
    assert not CustomerContact.objects.exists()


def test_compliance_sees_the_log_without_the_form(login, customer):
    page = html(login("compliance.ho").get(f"/customers/{customer.pk}/"))
    assert 'data-testid="contacts"' in page and 'data-testid="contact-form"' not in page
    assert login("compliance.ho").post(f"/customers/{customer.pk}/contacts/", {"kind": "call"}).status_code == 403


def test_the_profile_is_masked_for_a_reviewer_and_whole_for_the_officer(login, customer):
    reviewer = html(login("reviewer.sz").get(f"/customers/{customer.pk}/"))
    assert "示例贸易" not in reviewer and "王小东" not in reviewer and "10–30" not in reviewer
    officer = html(login("officer.sz").get(f"/customers/{customer.pk}/"))
    assert "深圳市福田区示例贸易有限公司" in officer and "配偶李娜,儿子王小东" in officer and "10–30万元" in officer


def test_the_officer_edits_the_profile_on_the_page(login, customer):
    client = login("officer.sz")
    page = html(client.get(f"/customers/{customer.pk}/"))
    assert 'data-testid="profile-form"' in page and 'value="深圳市福田区示例贸易有限公司"' in page  # prefilled
    resp = client.post(f"/customers/{customer.pk}/profile/", {
        "occupation": "采购经理", "employer": "深圳市福田区示例贸易有限公司", "income_band": "30_100",
        "family_members": "配偶李娜,儿子王小东", "preferences": "", "reason": "拜访时客户告知",
    })
    assert resp.status_code == 302
    customer = Customer.objects.get(pk=customer.pk)
    assert (customer.occupation, customer.income_band) == ("采购经理", "30_100")
    assert set(CustomerFieldChange.objects.values_list("field", flat=True)) == {"occupation", "income_band"}


def test_a_masked_collector_leaves_fields_empty_and_they_stay(login, customer):
    client = login("collector.sz")
    page = html(client.get(f"/customers/{customer.pk}/"))
    assert "示例贸易" not in page  # the form does not carry the masked values
    resp = client.post(f"/customers/{customer.pk}/profile/", {
        "occupation": "教师", "employer": "", "income_band": "", "family_members": "", "preferences": "", "reason": "",
    })
    assert resp.status_code == 302
    customer = Customer.objects.get(pk=customer.pk)
    assert customer.occupation == "教师" and customer.employer == "深圳市福田区示例贸易有限公司" and customer.income_band == "10_30"


def test_a_bad_profile_form_comes_back_open_with_messages(login, customer):
    resp = login("officer.sz").post(f"/customers/{customer.pk}/profile/", {"income_band": "rich", "employer": "厂" * 201})
    assert resp.status_code == 400
    page = html(resp)
    assert "请选择年收入区间" in page and "不能超过 200 个字" in page and "<details class=\"profile-edit\" open" in page
    assert not CustomerFieldChange.objects.exists()


def test_a_reviewer_has_no_profile_form(login, customer):
    page = html(login("reviewer.sz").get(f"/customers/{customer.pk}/"))
    assert 'data-testid="profile-form"' not in page
    assert login("reviewer.sz").post(f"/customers/{customer.pk}/profile/", {"occupation": "x"}).status_code == 403
