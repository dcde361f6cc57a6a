"""The demo org tree, users and sales agents. Idempotent: run it as often as you like."""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from backend.complaints.models import Complaint
from backend.complaints.services import complaint_accept
from backend.customers.models import Customer, CustomerStatus, InfoLevel
from backend.organisation.models import OrgLevel, Role, SalesAgent
from backend.organisation.services import org_unit_ensure, role_assign, user_ensure
from backend.policies.models import Claim, ClaimStatus, Policy
from backend.policies.services import policy_create
from backend.segments.services import segments_assign_all
from backend.service.models import ManagerGrade
from backend.service.services import customer_manager_ensure

DEMO_PASSWORD = "demo-pass-2026"

ORG_TREE = [
    ("HO", "总公司", OrgLevel.HEAD_OFFICE, None),
    ("GD", "广东省分公司", OrgLevel.PROVINCE, "HO"),
    ("ZJ", "浙江省分公司", OrgLevel.PROVINCE, "HO"),
    ("GD-SZ", "深圳市分公司", OrgLevel.CITY, "GD"),
    ("GD-GZ", "广州市分公司", OrgLevel.CITY, "GD"),
    ("ZJ-HZ", "杭州市分公司", OrgLevel.CITY, "ZJ"),
]

USERS = [
    ("collector.sz", "深圳采集人", [(Role.COLLECTOR, "GD-SZ")]),
    ("officer.sz", "深圳客户信息管理岗", [(Role.OFFICER, "GD-SZ")]),
    ("reviewer.sz", "深圳审核岗", [(Role.REVIEWER, "GD-SZ")]),
    ("reviewer.gz", "广州审核岗", [(Role.REVIEWER, "GD-GZ")]),
    ("reviewer.gd", "广东省审核岗", [(Role.REVIEWER, "GD")]),
    ("reviewer.hz", "杭州审核岗", [(Role.REVIEWER, "ZJ-HZ")]),
    ("owner.ho", "总公司流程管理员", [(Role.PROCESS_OWNER, "HO")]),
    ("compliance.ho", "总公司合规", [(Role.COMPLIANCE, "HO")]),
    ("collector.gz", "广州采集人", [(Role.COLLECTOR, "GD-GZ")]),
    ("officer.gz", "广州客户信息管理岗", [(Role.OFFICER, "GD-GZ")]),
    ("officer.gd", "广东省客户信息管理岗", [(Role.OFFICER, "GD")]),
    ("compliance.gd", "广东省合规", [(Role.COMPLIANCE, "GD")]),
    # Complaints (投诉): a handler at each branch, two in Shenzhen (recusal needs a second one),
    # and customer service at head office.
    ("handler.sz", "深圳投诉处理岗", [(Role.COMPLAINT_HANDLER, "GD-SZ")]),
    ("handler2.sz", "深圳投诉处理岗二", [(Role.COMPLAINT_HANDLER, "GD-SZ")]),
    ("handler.gz", "广州投诉处理岗", [(Role.COMPLAINT_HANDLER, "GD-GZ")]),
    ("handler.gd", "广东省投诉处理岗", [(Role.COMPLAINT_HANDLER, "GD")]),
    ("handler.zj", "浙江省投诉处理岗", [(Role.COMPLAINT_HANDLER, "ZJ")]),
    ("handler.hz", "杭州投诉处理岗", [(Role.COMPLAINT_HANDLER, "ZJ-HZ")]),
    ("cs.ho", "总公司客服管理部", [(Role.CUSTOMER_SERVICE, "HO"), (Role.COMPLAINT_HANDLER, "HO")]),
    # 客户经理制: a customer manager at a base-level unit, graded 初级 (applies for a higher grade).
    ("manager.sz", "深圳客户经理", [(Role.CUSTOMER_MANAGER, "GD-SZ")]),
    # 机构负责人: hears of a customer's major event (重大事件) with the customer-service centre.
    ("head.sz", "深圳市分公司负责人", [(Role.UNIT_HEAD, "GD-SZ")]),
    # 热线坐席: the province's service hotline answers the callers of all its cities.
    ("hotline.gd", "广东省热线坐席", [(Role.HOTLINE_AGENT, "GD")]),
]
MANAGERS = [("manager.sz", "GD-SZ", ManagerGrade.JUNIOR)]

AGENTS = [("AG-SZ-0001", "张业务", "+8613900000001", "GD-SZ"), ("AG-GZ-0001", "李业务", "+8613900000002", "GD-GZ")]


class Command(BaseCommand):
    help = "Create the demo org tree, users (password demo-pass-2026), sales agents and processes."

    def add_arguments(self, parser):
        # Opt-in: the test suites seed the org tree and users and expect no customers yet.
        parser.add_argument(
            "--with-complaints",
            action="store_true",
            help="also accept a few demo complaints (idempotent)",
        )
        parser.add_argument(
            "--with-policies",
            action="store_true",
            help="also create a few demo policies (and the active demo customers they need)",
        )

    @transaction.atomic
    def handle(self, *args, **options):
        units = {}
        for code, name, level, parent in ORG_TREE:
            units[code] = org_unit_ensure(code=code, name=name, level=level, parent=units.get(parent))
        for username, full_name, roles in USERS:
            user = user_ensure(username=username, password=DEMO_PASSWORD, full_name=full_name, email=f"{username}@demo.custflow.example")
            for role, unit in roles:
                role_assign(user=user, role=role, org_unit=units[unit])
        for username, unit, grade in MANAGERS:
            customer_manager_ensure(user=get_user_model().objects.get(username=username), org_unit=units[unit], grade=grade)
        admin = user_ensure(username="admin", password=DEMO_PASSWORD, full_name="系统管理员", is_superuser=True)
        role_assign(user=admin, role=Role.PROCESS_OWNER, org_unit=units["HO"])
        for code, name, phone, unit in AGENTS:
            SalesAgent.objects.update_or_create(agent_code=code, defaults={"name": name, "phone": phone, "org_unit": units[unit]})
        call_command("deploy_processes", stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"demo data ready: {len(units)} org units, {len(USERS) + 1} users"))
        if options.get("with_policies"):
            self.stdout.write(self.style.SUCCESS(f"demo policies ready: {seed_demo_policies(units)}"))
        if options.get("with_complaints"):
            self.stdout.write(self.style.SUCCESS(f"demo complaints ready: {seed_demo_complaints()}"))


# ---- demo complaints ----------------------------------------------------------------------------

DEMO_COMPLAINTS = [
    ("handler.sz", {"channel": "hotline", "category": "claims", "subject": "重疾险理赔款迟迟未到账", "complainant_name": "陈建国", "complainant_phone": "13800000101",
                    "description": "客户称理赔材料已于上月交齐,至今未收到赔款。", "identity_verified": True}),
    ("handler.gz", {"channel": "counter", "category": "sales", "subject": "分红险收益与宣传不符", "complainant_name": "林小红", "complainant_phone": "13800000205",
                    "description": "客户认为销售人员夸大了分红收益。", "complainant_count": 3}),
    ("handler.gd", {"channel": "regulator", "category": "service", "subject": "监管转办:退保手续办理缓慢", "complainant_name": "黄志强", "complainant_phone": "13800000309",
                    "description": "银保监局转办:客户申请退保两周未办结。"}),
]


def seed_demo_complaints() -> int:
    created = 0
    for username, data in DEMO_COMPLAINTS:
        if Complaint.objects.filter(subject=data["subject"]).exists():
            continue
        complaint_accept(actor=get_user_model().objects.get(username=username), data=dict(data))
        created += 1
    return created


# ---- demo policies (and the active customers they need) -------------------------------------

# (name, birth date yyyymmdd, serial, phone, org unit): valid resident ids are built below.
DEMO_CUSTOMERS = [
    ("陈建国", "19700312", "101", "+8613800000101", "GD-SZ"),
    ("陈晓燕", "19720815", "202", "+8613800000102", "GD-SZ"),
    ("陈思远", "20010520", "303", "+8613800000103", "GD-SZ"),
    ("林志明", "19800101", "404", "+8613800000104", "GD-SZ"),
]
# (policy number, product, holder, insured, beneficiaries [(customer, relationship, share)], sum, premium, mode)
DEMO_POLICIES = [
    (
        "DEMO-SZ-0001",
        "安心终身寿险",
        0,
        0,
        [(1, "spouse", "50"), (2, "child", "50")],
        "500000",
        "12000",
        "annual",
    ),
    ("DEMO-SZ-0002", "健康守护重疾险", 0, 2, [(0, "parent", "100")], "300000", "6800", "monthly"),
    ("DEMO-SZ-0003", "意外伤害保险", 3, 3, [], "200000", "360", "single"),
]
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _resident_id(region: str, birth: str, serial: str) -> str:
    body = f"{region}{birth}{serial}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def seed_demo_policies(units) -> int:
    """A few policies on demo customers; customers are created (already active) only if missing.
    Idempotent: an existing policy number is left alone."""

    users = get_user_model().objects
    customers = []
    for name, birth, serial, phone, unit in DEMO_CUSTOMERS:
        id_number = _resident_id("440305", birth, serial)
        customer = Customer.objects.filter(id_type="resident_id", id_number=id_number).first()
        if customer is None:
            now = timezone.now()
            customer = Customer.objects.create(
                name=name,
                id_type="resident_id",
                id_number=id_number,
                birth_date=date(int(birth[:4]), int(birth[4:6]), int(birth[6:])),
                gender="M" if int(serial[-1]) % 2 else "F",
                phone=phone,
                address="广东省深圳市南山区演示路 1 号",
                info_level=InfoLevel.ADVANCED,
                status=CustomerStatus.ACTIVE,
                org_unit=units[unit],
                collected_by=users.get(username="collector.sz"),
                activated_at=now,
                last_verified_at=now,
            )
        customers.append(customer)
    for number, product, holder, insured, beneficiaries, sum_insured, premium, mode in DEMO_POLICIES:
        if Policy.objects.filter(policy_number=number).exists():
            continue
        policy_create(
            actor=users.get(username="collector.sz"),
            policy_number=number,
            product=product,
            policyholder_id=customers[holder].pk,
            insured_id=customers[insured].pk,
            effective_date="2025-07-01",
            term_months=240 if mode != "single" else 12,
            sum_insured=sum_insured,
            premium=premium,
            payment_mode=mode,
            beneficiaries=[
                {"customer_id": customers[i].pk, "relationship": rel, "share": share}
                for i, rel, share in beneficiaries
            ],
        )
    _seed_demo_claims()
    return Policy.objects.filter(policy_number__in=[p[0] for p in DEMO_POLICIES]).count()


# Three claims on the 重疾险 in the last months: its holder shows 多次理赔 (and, holding most of the
# branch's premium, 大客户) once the segment rules have run.
DEMO_CLAIMS = [("DEMO-CLM-0001", "DEMO-SZ-0002", 20, "8000"), ("DEMO-CLM-0002", "DEMO-SZ-0002", 80, "3500"), ("DEMO-CLM-0003", "DEMO-SZ-0002", 140, "0")]


def _seed_demo_claims() -> None:
    today = timezone.localdate()
    for number, policy_number, days_ago, paid in DEMO_CLAIMS:
        policy = Policy.objects.filter(policy_number=policy_number).first()
        if policy is None or Claim.objects.filter(claim_number=number).exists():
            continue
        day = max(today - timedelta(days=days_ago), policy.effective_date)
        Claim.objects.create(
            claim_number=number,
            policy=policy,
            customer=policy.policyholder,
            org_unit=policy.org_unit,
            occurred_on=day,
            reported_on=day,
            status=ClaimStatus.SETTLED if Decimal(paid) else ClaimStatus.REPORTED,
            amount_claimed=Decimal(paid) or Decimal("12000"),
            amount_paid=Decimal(paid),
            cause="住院医疗",
            source="理赔系统（演示）",
        )
    segments_assign_all()
