"""分群阈值调整 (process segment_threshold_change): a branch's officer or customer service proposes
new thresholds with a reason; the head of the branch approves (never the proposer); the approval
makes the next version and the branch's customers are judged by it. Values outside their range,
an unchanged set, a missing reason: 400 at the field, nothing written."""

from __future__ import annotations

import pytest

from backend.common.models import AuditEvent, OutboxMessage
from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign
from backend.segments.models import SegmentThresholds, ThresholdChange
from tasks.models import HumanTask
from tests.conftest import inbox

pytestmark = pytest.mark.django_db
PROCESS = "segment_threshold_change"
CASE = "segments.thresholdchange"
URL = "/api/segment-thresholds/"


def propose(api, as_user="officer.sz", **values):
    body = {"reason": "本地区理赔频度偏高，多次理赔预警下调到 2 次", "alert_claims_count": 2, **values}
    return api(as_user).post(URL, body, format="json")


def _task(client, case_id):
    return next((t for t in inbox(client) if t["process"] == PROCESS and t["case_id"] == case_id), None)


def decide(api, case_id, as_user="head.sz", decision="approve", comment="同意"):
    task = _task(api(as_user), case_id)
    assert task is not None
    return api(as_user).post(f"/api/tasks/{task['id']}/complete/", {"decision": decision, "comment": comment}, format="json")


def test_the_head_approves_and_a_new_version_judges_the_branch(api):
    before = api("officer.sz").get(URL).json()
    assert before["org_unit"] == "GD-SZ" and before["version"] == 0 and before["values"]["alert_claims_count"] == "3"
    resp = propose(api)
    assert resp.status_code == 201, resp.content
    change = resp.json()
    assert change["status"] == "pending" and change["values"]["alert_claims_count"] == "2"
    assert change["values"]["good_claim_free_years"] == "3"  # the rest kept
    assert change["values"]["alert_loss_ratio_pct"] == "80"
    assert not SegmentThresholds.objects.exists()
    assert api("officer.sz").get(URL).json()["pending_change_id"] == change["id"]
    done = decide(api, change["id"])
    assert done.status_code == 200, done.content
    after = api("officer.sz").get(URL).json()
    assert after["version"] == 1 and after["values"]["alert_claims_count"] == "2"
    assert after["history"][0]["approved_by"] == "head.sz" and after["history"][0]["reason"].startswith("本地区")
    assert api("head.sz").get(f"/api/segment-threshold-changes/{change['id']}/").json()["status"] == "approved"
    assert OutboxMessage.objects.filter(job="segments.assign_unit").count() == 1
    assert AuditEvent.objects.filter(action="segment_thresholds.approved").exists()
    # A second version numbers on.
    second = propose(api, alert_claims_count=4).json()
    assert decide(api, second["id"]).status_code == 200
    assert list(SegmentThresholds.objects.order_by("version").values_list("version", flat=True)) == [1, 2]


def test_values_are_written_plainly(api):
    change = propose(api, alert_loss_ratio_pct="80.50", key_premium_share_pct=10).json()
    assert change["values"]["alert_loss_ratio_pct"] == "80.5" and change["values"]["key_premium_share_pct"] == "10"


def test_a_rejection_changes_nothing(api):
    change = propose(api).json()
    assert decide(api, change["id"], decision="reject", comment="数据不足").status_code == 200
    assert ThresholdChange.objects.get(pk=change["id"]).status == "rejected"
    assert not SegmentThresholds.objects.exists()


def test_the_proposer_never_approves_his_own_change(api, users):
    unit = OrgUnit.objects.get(code="GD-SZ")
    role_assign(user=users["head.sz"], role=Role.OFFICER, org_unit=unit)
    change = propose(api, as_user="head.sz").json()
    assert _task(api("head.sz"), change["id"]) is None
    task = HumanTask.objects.get(case_type=CASE, case_id=change["id"])
    resp = api("head.sz").post(f"/api/tasks/{task.pk}/complete/", {"decision": "approve"}, format="json")
    assert resp.status_code in (403, 404)
    assert not SegmentThresholds.objects.exists()


def test_only_proposer_roles_may_propose_and_only_for_their_branches(api):
    assert propose(api, as_user="manager.sz").status_code == 403
    assert propose(api, as_user="collector.sz").status_code == 403
    other = propose(api, as_user="officer.sz", org_unit="GD-GZ")
    assert other.status_code == 400 and "org_unit" in other.json()
    assert api("officer.gz").get(URL, {"org_unit": "GD-SZ"}).status_code == 404
    assert propose(api, as_user="officer.gd", org_unit="GD-SZ").status_code == 201
    assert not SegmentThresholds.objects.exists()


def test_a_second_open_change_is_a_409(api):
    assert propose(api).status_code == 201
    again = propose(api, alert_claims_count=5)
    assert again.status_code == 409 and again.json()["code"] == "threshold_change_pending"
    assert ThresholdChange.objects.count() == 1


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"alert_claims_count": 1}, "alert_claims_count"),
        ({"alert_claims_count": 51}, "alert_claims_count"),
        ({"alert_claims_count": 2.5}, "alert_claims_count"),
        ({"alert_claims_count": "x"}, "alert_claims_count"),
        ({"alert_claims_count": True}, "alert_claims_count"),
        ({"alert_loss_ratio_pct": 5}, "alert_loss_ratio_pct"),
        ({"alert_loss_ratio_pct": "1e9"}, "alert_loss_ratio_pct"),
        ({"good_max_loss_ratio_pct": -1}, "good_max_loss_ratio_pct"),
        ({"key_premium_share_pct": "0.001"}, "key_premium_share_pct"),
        ({"loss_ratio_window_months": 6}, "loss_ratio_window_months"),
        ({"alert_claims_count": 3}, "non_field_errors"),  # nothing changes
        ({"reason": ""}, "reason"),
        ({"reason": "理" * 501}, "reason"),
        ({"reason": "理由\x00"}, "reason"),
    ],
)
def test_bad_input_is_a_400_at_the_field_and_writes_nothing(api, values, field):
    resp = propose(api, **values)
    assert resp.status_code == 400, resp.content
    assert field in resp.json(), resp.json()
    assert not ThresholdChange.objects.exists() and not HumanTask.objects.filter(case_type=CASE).exists()
