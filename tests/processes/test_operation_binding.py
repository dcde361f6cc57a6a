"""Control 4: service operations act on their own case only.

Generated from the operations registry: for every registered operation,
- a diagram that gives it a `case_id`, `customer_id` or `complaint_id` is refused by lint;
- at run time (a diagram deployed before lint knew better) the handler receives only the
  parameters it declares, and its case is the instance's own, whatever process data says;
- a test instance calling it changes no row: the handler runs in a rolled-back savepoint and the
  intention is recorded.
Plus the attack as found: `customers.activate_customer` with `case_id` from process data must not
activate another branch's pending opening.
"""

from __future__ import annotations

import hashlib
from xml.sax.saxutils import quoteattr

import pytest
from django.apps import apps
from django.db import transaction

from backend.common.models import AuditEvent
from backend.customers.models import AccountOpening, Customer
from backend.organisation.models import OrgUnit
from processes import registry, runtime
from processes.engine import parse_diagram
from processes.models import InstanceStatus, ProcessDefinition, ProcessInstance, ProcessVersion
from processes.registry import Operation, operation_get, operation_names, operation_register
from processes.services import diagram_check, process_test_instance_start
from tests.fixtures.diagrams import HEADER

pytestmark = pytest.mark.django_db

OPERATIONS = operation_names()
FOREIGN_PARAMS = ("case_id", "customer_id", "complaint_id")


def service_diagram(key: str, operation: str, params: dict[str, str], script: str = "x = 1") -> bytes:
    """start → script (moves data) → service task `operation` with `params` (name → expression) → end."""
    items = "".join(
        f'<spiffworkflow:parameter id={quoteattr(k)} type="str" value={quoteattr(v)} />'
        for k, v in params.items()
    )
    return (
        HEADER + f'<bpmn:process id="{key}" name="绑定测试" isExecutable="true">\n'
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script" />\n'
        f'<bpmn:scriptTask id="script" name="脚本"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>\n'
        '<bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="svc" />\n'
        f'<bpmn:serviceTask id="svc" name="服务"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="{operation}">'
        f"<spiffworkflow:parameters>{items}</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>"
        "<bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:serviceTask>\n"
        '<bpmn:sequenceFlow id="f3" sourceRef="svc" targetRef="end" />\n'
        '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>\n'
        "</bpmn:process>\n</bpmn:definitions>\n"
    ).encode()


def deploy_unchecked(xml: bytes, key: str) -> ProcessVersion:
    """A version stored without lint: what an instance of a diagram deployed before this control runs."""
    diagram = parse_diagram(xml, f"{key}.bpmn")
    definition, _ = ProcessDefinition.objects.get_or_create(key=key, defaults={"name": key})
    number = definition.versions.count() + 1
    return ProcessVersion.objects.create(
        definition=definition,
        version=number,
        content_hash=hashlib.sha256(xml).hexdigest(),
        bpmn_xml=xml.decode(),
        spec=diagram.spec,
        metadata={},
        source="upload",
    )


def declared(operation: str) -> dict[str, str]:
    return {name: '"review"' for name in operation_get(operation).params}


def foreign_ids() -> dict[str, int]:
    from backend.complaints.models import Complaint

    return {
        "case_id": AccountOpening.objects.order_by("pk").values_list("pk", flat=True).first() or 1,
        "customer_id": Customer.objects.order_by("pk").values_list("pk", flat=True).first() or 1,
        "complaint_id": Complaint.objects.order_by("pk").values_list("pk", flat=True).first() or 1,
    }


def test_every_operation_is_covered():
    assert len(OPERATIONS) >= 20  # the registry is filled at startup; a new operation joins these tests


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("param", FOREIGN_PARAMS)
def test_lint_refuses_a_record_identifier_parameter(operation, param):
    _diagram, problems = diagram_check(
        service_diagram("bind_lint", operation, {**declared(operation), param: param}), "bind_lint.bpmn"
    )
    errors = [p for p in problems if p.severity == "error" and p.element == "svc"]
    assert errors and param in errors[0].message, problems


@pytest.mark.parametrize("operation", OPERATIONS)
def test_lint_accepts_the_declared_parameters(operation):
    _diagram, problems = diagram_check(
        service_diagram("bind_ok", operation, declared(operation)), "bind_ok.bpmn"
    )
    assert [p for p in problems if p.severity == "error"] == []


@pytest.mark.parametrize(
    "name",
    ["case_id", "customer_id", "complaint_id", "complaint", "case", "customer_ids", "target_id", "case_pk"],
)
def test_registration_refuses_record_parameters(name):
    with pytest.raises(ValueError, match="identify a record"):
        operation_register("tests.bad_operation", lambda ctx, params, data: {}, params=(name,))
    assert operation_get("tests.bad_operation") is None


@pytest.mark.parametrize("operation", OPERATIONS)
def test_runtime_binds_the_instance_case_whatever_the_diagram_says(operation, demo, monkeypatch):
    """A diagram stored without lint passes foreign ids in parameters and data: the handler
    still gets only its declared parameters, and the instance's own case."""
    seen: list[tuple] = []

    def spy(ctx, params, data):
        seen.append((ctx.case_id, dict(params)))
        return {}

    real = operation_get(operation)
    monkeypatch.setitem(
        registry._OPERATIONS, operation, Operation(real.name, spy, real.description, real.params)
    )
    ids = foreign_ids()
    own = 987_654
    script = "; ".join(f"{k} = {v + 1000}" for k, v in ids.items())
    version = deploy_unchecked(
        service_diagram(
            "bind_run", operation, {**declared(operation), **{k: k for k in FOREIGN_PARAMS}}, script
        ),
        "bind_run",
    )
    with transaction.atomic():
        instance = ProcessInstance.objects.create(
            version=version,
            org_unit=OrgUnit.objects.get(code="GD-SZ"),
            subject_type="customers.accountopening",
            subject_id=own,
        )
        runtime.instance_start(instance=instance, data=dict(ids), actor=None)
    assert seen == [(own, {k: "review" for k in real.params})]


def _writer(ctx, params, data):
    """An operation that writes real rows (and would queue a job): a test instance must undo it all."""
    Customer.objects.update(name="被测试实例改写")
    transaction.on_commit(lambda: Customer.objects.update(name="提交后改写"))
    return {"wrote": True}


def _rows() -> dict[str, list]:
    """Every row of every table a test instance may not touch (its own instance row and the audit
    trail, which records the dry run, aside)."""
    skip = {ProcessInstance._meta.label_lower, AuditEvent._meta.label_lower}
    return {
        m._meta.label_lower: list(m.objects.order_by("pk").values())
        for m in apps.get_models()
        if m._meta.label_lower not in skip and m._meta.managed
    }


@pytest.mark.parametrize("operation", [*OPERATIONS, "tests.writer"])
def test_a_test_instance_changes_no_row(operation, users, monkeypatch, django_capture_on_commit_callbacks):
    if operation == "tests.writer":
        monkeypatch.setitem(registry._OPERATIONS, operation, Operation(operation, _writer, "改写客户"))
    key = "dry_" + operation.replace(".", "_")
    from processes.services import process_version_deploy

    process_version_deploy(data=service_diagram(key, operation, declared(operation)), filename=f"{key}.bpmn")
    before = _rows()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        instance = process_test_instance_start(actor=users["owner.ho"], key=key, data=foreign_ids())
    assert _rows() == before
    assert callbacks == []  # jobs queued by the handler went with its savepoint
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    recorded = AuditEvent.objects.filter(action="process.operation_dry_run", process_instance_id=instance.pk)
    assert [e.data["operation"] for e in recorded] == [operation]


def test_activate_customer_cannot_reach_another_branch(api, users):
    """The attack as found: a diagram takes `case_id` from process data and activates another
    branch's pending opening."""
    from tests.factories import opening_payload, resident_id

    gz = api("collector.gz").post(
        "/api/account-openings/",
        opening_payload("advanced", id_number=resident_id(serial=77), phone="13500001111"),
        format="multipart",
    )
    assert gz.status_code == 201, gz.content
    target = AccountOpening.objects.get(pk=gz.json()["id"])

    def status():
        return Customer.objects.filter(pk=target.customer_id).values_list("status", flat=True).get()

    status_before = status()
    version = deploy_unchecked(
        service_diagram(
            "evil_activate",
            "customers.activate_customer",
            {"case_id": "case_id"},
            script=f"case_id = {target.pk}",
        ),
        "evil_activate",
    )
    own = AccountOpening.objects.exclude(pk=target.pk).order_by("pk").first()
    try:
        with transaction.atomic():
            instance = ProcessInstance.objects.create(
                version=version,
                org_unit=OrgUnit.objects.get(code="GD-SZ"),
                subject_type="customers.accountopening",
                subject_id=own.pk if own else 0,
            )
            runtime.instance_start(instance=instance, data={"case_id": target.pk}, actor=users["reviewer.sz"])
    except runtime.ProcessRunError:
        pass  # acting on its own case may fail (that opening is not pending): what matters is the other
    assert status() == status_before
    assert not AuditEvent.objects.filter(
        action="customer.activated", object_id=str(target.customer_id)
    ).exists()
