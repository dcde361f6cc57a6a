"""Issue 16 item 1: checks A, D and the blacklist run on EVERY path that writes customer data.

The write paths are not listed by hand: `write_paths.scan()` reads the code base and finds
every function that creates or changes a customer record. Each one found must be registered in
`customers.checks.CUSTOMER_WRITE_PATHS` with the step that runs the checks for it, that step
must call `customer_checks_run(_many)`, and a scenario here must drive the path through the API
with a sales agent's phone and see the `agent_phone` flag in the path's API detail. A new write
path without the checks (or without a scenario) fails this test.
"""

from __future__ import annotations

import io
from datetime import date

import pytest

from backend.customers.checks import CUSTOMER_WRITE_EXEMPT, CUSTOMER_WRITE_PATHS
from backend.customers.models import Customer
from backend.integrations.models import ImportReview
from backend.organisation.models import SalesAgent
from tasks.models import HumanTask
from tests.conftest import inbox
from tests.customers.write_paths import runs_checks, scan
from tests.factories import resident_id

WRITES, CALLS = scan()


@pytest.fixture(autouse=True)
def jobs_inline(monkeypatch):
    """The import job runs inline here, also in an integration run (CUSTFLOW_INTEGRATION=1
    turns Celery's eager mode off for the real-worker tests)."""
    from backend.config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)


def agent_phone() -> str:
    return SalesAgent.objects.filter(active=True).order_by("agent_code").first().phone


def complete(api, username, task_id, **data):
    resp = api(username).post(f"/api/tasks/{task_id}/complete/", data, format="json")
    assert resp.status_code == 200, resp.content
    return resp


def open_active(api, submit, phone="13812340000", birth=date(1980, 1, 1)) -> Customer:
    body = submit("advanced", id_number=resident_id(birth=birth), phone=phone).json()
    task = next(
        t
        for t in inbox(api("reviewer.sz"))
        if t["case_id"] == body["id"] and t["process"].endswith("opening")
    )
    complete(api, "reviewer.sz", task["id"], decision="approve")
    return Customer.objects.get(pk=body["customer_id"])


def upload(api, django_capture_on_commit_callbacks, lines: list[str]) -> dict:
    f = io.BytesIO(("姓名,证件类型,证件号码,联系电话\n" + "\n".join(lines) + "\n").encode())
    f.name = "rows.csv"
    with django_capture_on_commit_callbacks(execute=True):
        resp = api("officer.sz").post("/api/integrations/imports/", {"file": f}, format="multipart")
    assert resp.status_code == 202, resp.content
    detail = api("officer.sz").get(f"/api/integrations/imports/{resp.json()['id']}/")
    assert detail.status_code == 200
    return detail.json()


# ---- one scenario per write path: each returns the flags the path's API detail shows ---------


def _opening_submit(api, submit, **_):
    body = submit("advanced", phone=agent_phone()).json()
    return api("collector.sz").get(f"/api/account-openings/{body['id']}/").json()["flags"]


def _opening_resubmit(api, submit, **_):
    body = submit("advanced", phone="13812340001").json()
    assert "agent_phone" not in body["flags"]
    [task] = [t for t in inbox(api("reviewer.sz")) if t["case_id"] == body["id"]]
    complete(api, "reviewer.sz", task["id"], decision="return", comment="请核对电话")
    [fix] = [t for t in inbox(api("collector.sz")) if t["step"] == "fix_submission"]
    complete(api, "collector.sz", fix["id"], phone=agent_phone(), comment="已更正电话")
    return api("collector.sz").get(f"/api/account-openings/{body['id']}/").json()["flags"]


def _officer_correct(api, submit, **_):
    body = submit("advanced", phone="13812340006", confirm_as=None).json()
    assert "agent_phone" not in body["flags"]
    [task] = [t for t in inbox(api("officer.sz")) if t["case_id"] == body["id"]]
    assert task["step"] == "officer_check"
    complete(
        api, "officer.sz", task["id"], decision="correct", phone=agent_phone(), comment="按证件核对更正电话"
    )
    detail = api("collector.sz").get(f"/api/account-openings/{body['id']}/").json()
    assert detail["opened_by"] == "officer.sz" and detail["collector"] == "collector.sz"
    return detail["flags"]


def _amendment(api, submit, **_):
    customer = open_active(api, submit)
    resp = api("collector.sz").post(
        f"/api/customers/{customer.pk}/amendments/",
        {"phone": agent_phone(), "reason": "客户来电"},
        format="json",
    )
    assert resp.status_code == 201, resp.content
    return api("reviewer.sz").get(f"/api/amendments/{resp.json()['id']}/").json()["flags"]


def _endorsement(api, submit, **_):
    from tests.policies.conftest import policy_payload

    holder = open_active(api, submit, phone="13812340002")
    insured = open_active(api, submit, phone="13812340003", birth=date(1956, 3, 3))
    policy = api("collector.sz").post("/api/policies/", policy_payload(holder, insured), format="json")
    assert policy.status_code == 201, policy.content
    resp = api("collector.sz").post(
        f"/api/policies/{policy.json()['id']}/endorsements/",
        {"customer_changes": {"insured": {"phone": agent_phone()}}, "reason": "被保险人换号"},
        format="json",
    )
    assert resp.status_code == 201, resp.content
    detail = api("reviewer.sz").get(f"/api/endorsements/{resp.json()['id']}/").json()
    assert detail["flags"] == resp.json()["flags"] or "agent_phone" in detail["flags"]
    return detail["flags"]


def _import_rows(api, django_capture_on_commit_callbacks, **_):
    body = upload(
        api, django_capture_on_commit_callbacks, [f"赵业务,居民身份证,{resident_id()},{agent_phone()}"]
    )
    [row] = body["flagged_rows"]
    assert row["row_number"] == 2 and row["outcome"] == "suspicious"
    return row["flags"]


def _import_review_accept(api, django_capture_on_commit_callbacks, **_):
    upload(api, django_capture_on_commit_callbacks, [f"钱业务,居民身份证,{resident_id()},{agent_phone()}"])
    from backend.integrations.imports import import_reviews_start

    review = ImportReview.objects.get(kind="suspicious")
    import_reviews_start(batch_id=review.batch_id)
    task = HumanTask.objects.get(process_key="import_row_review", status="ready")
    complete(api, "officer.sz", task.pk, decision="accept", comment="核实为客户本人号码")
    review.refresh_from_db()
    assert review.decision == "accept"
    return api("officer.sz").get(f"/api/tasks/{task.pk}/").json()["case"]["flags"]


SCENARIOS = {
    "backend.customers.services:account_opening_submit": _opening_submit,
    "backend.customers.services:opening_resubmit": _opening_resubmit,
    "backend.customers.services:opening_officer_correct": _officer_correct,
    "backend.customers.amendments:amendment_apply": _amendment,
    "backend.policies.services:endorsement_apply": _endorsement,
    "backend.integrations.imports:_Chunk.run": _import_rows,
    "backend.integrations.reviews:import_review_decide": _import_review_accept,
}


def test_the_scan_finds_the_known_write_paths():
    # Guards the scanner itself: if it stopped seeing writes, every other test here would pass vacuously.
    assert set(CUSTOMER_WRITE_PATHS) <= WRITES
    assert set(CUSTOMER_WRITE_EXEMPT) <= WRITES


@pytest.mark.parametrize("path", sorted(WRITES))
def test_every_write_path_is_registered_with_a_step_that_runs_the_checks(path):
    if path in CUSTOMER_WRITE_EXEMPT:
        return
    assert path in CUSTOMER_WRITE_PATHS, (
        f"{path} writes customer data but is not in customers.checks.CUSTOMER_WRITE_PATHS: "
        "run customer_checks_run on what it writes and register it"
    )
    guard = CUSTOMER_WRITE_PATHS[path]
    assert runs_checks(guard, CALLS), f"{guard} (the check step of {path}) does not call customer_checks_run"
    assert path in SCENARIOS, f"{path}: add a scenario proving its flags through the API"


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(WRITES - set(CUSTOMER_WRITE_EXEMPT)))
def test_every_write_path_flags_a_sales_agents_phone(path, api, submit, django_capture_on_commit_callbacks):
    scenario = SCENARIOS.get(path)
    assert scenario is not None, f"{path}: no scenario"
    flags = scenario(
        api=api, submit=submit, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks
    )
    assert "agent_phone" in flags and "shared_phone" in flags, (path, flags)


# ---- paths that write through a registered one: verification-call correction, import merge ----


@pytest.mark.django_db
def test_verification_call_correction_to_an_agents_phone_is_flagged(api, submit):
    from backend.integrations.verification import sample_verification_run

    customer = open_active(api, submit, phone="13812340004")
    sample_verification_run(period=date.today().strftime("%Y-%m"), share=1.0)
    task = next(t for t in inbox(api("officer.sz")) if t["process"] == "sample_verification")
    complete(api, "officer.sz", task["id"], result="wrong", notes="客户说换了号", phone=agent_phone())
    [amendment] = api("officer.sz").get(f"/api/customers/{customer.pk}/amendments/").json()
    assert {"agent_phone", "shared_phone"} <= set(amendment["flags"])


@pytest.mark.django_db
def test_import_merge_to_another_customers_phone_is_flagged(api, submit, django_capture_on_commit_callbacks):
    other = open_active(api, submit, phone="13812340005")
    number = resident_id()
    upload(api, django_capture_on_commit_callbacks, [f"张三,居民身份证,{number},13800000021"])
    upload(api, django_capture_on_commit_callbacks, [f"张三,居民身份证,{number},{other.phone}"])
    from backend.integrations.imports import import_reviews_start

    review = ImportReview.objects.get(kind="merge")
    import_reviews_start(batch_id=review.batch_id)
    task = HumanTask.objects.get(process_key="import_row_review", status="ready")
    complete(api, "officer.sz", task.pk, decision="accept")
    [amendment] = api("officer.sz").get(f"/api/customers/{review.customer_id}/amendments/").json()
    assert amendment["flags"] == ["shared_phone"]


@pytest.mark.parametrize(
    "source",
    [
        "def f(x):\n    Customer.objects.create(name=x)\n",
        "def f(pk, x):\n    Customer.objects.filter(pk=pk).update(phone=x)\n",
        "def f(rows):\n    Customer.objects.bulk_create([Customer(**r) for r in rows])\n",
        "def f(c):\n    c.id_number = '1'\n    c.save(update_fields=['id_number'])\n",
        "def f(customer, names):\n    customer.save(update_fields=[*names])\n",
        "def f(customer):\n    customer.save()\n",
        "class A:\n    def run(self, d):\n        customer_changes_apply(customer_id=1, changes=d)\n",
    ],
)
def test_the_scanner_sees_every_kind_of_customer_write(source):
    import ast

    from tests.customers.write_paths import _Finder

    finder = _Finder("hypothetical")
    finder.visit(ast.parse(source))
    assert finder.writes, source


def test_the_scanner_ignores_status_only_saves_and_other_models():
    import ast

    from tests.customers.write_paths import _Finder

    finder = _Finder("hypothetical")
    finder.visit(
        ast.parse(
            "def f(customer, unit):\n"
            "    customer.save(update_fields=['status', 'updated_at'])\n"
            "    unit.save(update_fields=['name', 'path'])\n"
        )
    )
    assert finder.writes == set()
