"""热线坐席台 page: the agent looks a caller up (POST, recorded), picks the customer, sees him whole
and logs the call with a hand-off; a refused form comes back with the messages next to the fields."""

from __future__ import annotations

import pytest

from backend.complaints.models import Complaint
from backend.customers.models import RevealEvent, RevealEventKind
from backend.hotline.models import HotlineCall
from tests.customers.factories import customer_make

pytestmark = pytest.mark.django_db


def test_the_agent_finds_the_caller_and_logs_a_complaint(login):
    customer = customer_make(name="王大明")
    client = login("hotline.gd")
    page = client.get("/hotline/")
    assert page.status_code == 200 and 'data-testid="hotline-search-form"' in page.content.decode()
    found = client.post("/hotline/", {"action": "search", "field": "phone", "value": customer.phone})
    html = found.content.decode()
    assert found.status_code == 200 and f'data-testid="hotline-pick-{customer.pk}"' in html
    assert RevealEvent.objects.filter(kind=RevealEventKind.LOOKUP, user__username="hotline.gd").count() == 1
    view = client.get(f"/hotline/?customer={customer.pk}").content.decode()
    assert 'data-testid="hotline-360"' in view
    file_part = view[view.index('data-testid="hotline-360"') : view.index('data-testid="hotline-call"')]
    assert customer.phone not in file_part and customer.phone[-4:] in file_part  # masked for the agent
    assert f'value="{customer.phone}"' in view  # the number he looked up waits in the call form
    assert client.session["hotline_caller_phone"] == customer.phone
    resp = client.post(f"/hotline/?customer={customer.pk}", {
        "action": "log", "customer_id": customer.pk, "caller_phone": customer.phone, "category": "complaint",
        "summary": "理赔款未到账", "handoff": "complaint", "complaint_subject": "理赔款未到账", "complaint_category": "claims",
    })
    assert resp.status_code == 302, resp.content.decode()[:500]
    assert Complaint.objects.get().channel == "hotline" and HotlineCall.objects.get().complaint_id is not None


def test_a_bad_call_comes_back_next_to_the_fields(login):
    client = login("hotline.gd")
    resp = client.post("/hotline/", {"action": "log", "caller_phone": "abc", "category": "", "summary": ""})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "请选择咨询类别" in html and "请填写来电内容" in html and 'value="abc"' in html
    assert not HotlineCall.objects.exists()


def test_other_roles_do_not_reach_the_desk(login):
    assert login("reviewer.sz").get("/hotline/").status_code == 403
    assert login("hotline.gd").get(f"/hotline/?customer={customer_make('ZJ-HZ').pk}").status_code == 404
