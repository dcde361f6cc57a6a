"""Shared steps for the complaint tests: accept a complaint and work its tasks through the API."""

from __future__ import annotations

from tests.conftest import inbox


def complaint_payload(**overrides) -> dict:
    data = {
        "channel": "hotline",
        "category": "claims",
        "subject": "理赔款迟迟未到账",
        "description": "客户称理赔材料已交齐一个月,赔款仍未到账。",
        "complainant_name": "王小明",
        "complainant_phone": "13800001111",
        "identity_verified": True,
    }
    data.update(overrides)
    return data


def accept(api, as_user: str = "handler.sz", **overrides) -> dict:
    resp = api(as_user).post("/api/complaints/", complaint_payload(**overrides), format="json")
    assert resp.status_code == 201, resp.content
    return resp.json()


def task_of(api, username: str, complaint_id: int, step: str | None = None) -> dict:
    rows = [t for t in inbox(api(username)) if t.get("case_id") == complaint_id and (step is None or t["step"] == step)]
    assert rows, f"{username} has no {step or 'task'} for complaint {complaint_id}: {[(t.get('case_id'), t['step']) for t in inbox(api(username))]}"
    return rows[0]


def complete(api, username: str, task_id: int, data: dict, expect: int = 200):
    client = api(username)
    task = client.get(f"/api/tasks/{task_id}/").json()
    if task.get("assignee") in (None, "") and expect == 200:
        resp = client.post(f"/api/tasks/{task_id}/claim/")
        assert resp.status_code == 200, resp.content
    resp = client.post(f"/api/tasks/{task_id}/complete/", data, format="json")
    assert resp.status_code == expect, resp.content
    return resp


def work(api, username: str, complaint_id: int, step: str, data: dict) -> None:
    complete(api, username, task_of(api, username, complaint_id, step)["id"], data)


VERIFY = {"verified_facts": "调取理赔系统记录,材料已齐全,付款审批卡在二级审核。", "identity_verified": True}
REGISTER = {"category": "claims", "product": "健康守护重疾险"}
HANDLE = {
    "facts": "理赔审批超时。",
    "basis": "《保险法》第二十三条。",
    "reasons": "审批流程延误,责任在我司。",
    "decision_text": "三日内支付赔款并支付延期利息。",
    "remedy_review": True,
    "remedy_litigation": True,
}


def feedback(sent_at: str) -> dict:
    return {"notice_channel": "sms", "notice_sent_at": sent_at, "notice_proof": "短信回执 SMS-20260501-0001", "satisfaction": "satisfied"}
