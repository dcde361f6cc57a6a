"""The demo org tree, users and sales agents. Idempotent: run it as often as you like."""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from backend.organisation.models import OrgLevel, Role, SalesAgent
from backend.organisation.services import org_unit_ensure, role_assign, user_ensure

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
]

AGENTS = [("AG-SZ-0001", "张业务", "+8613900000001", "GD-SZ"), ("AG-GZ-0001", "李业务", "+8613900000002", "GD-GZ")]


class Command(BaseCommand):
    help = "Create the demo org tree, users (password demo-pass-2026), sales agents and processes."

    @transaction.atomic
    def handle(self, *args, **options):
        units = {}
        for code, name, level, parent in ORG_TREE:
            units[code] = org_unit_ensure(code=code, name=name, level=level, parent=units.get(parent))
        for username, full_name, roles in USERS:
            user = user_ensure(username=username, password=DEMO_PASSWORD, full_name=full_name)
            for role, unit in roles:
                role_assign(user=user, role=role, org_unit=units[unit])
        admin = user_ensure(username="admin", password=DEMO_PASSWORD, full_name="系统管理员", is_superuser=True)
        role_assign(user=admin, role=Role.PROCESS_OWNER, org_unit=units["HO"])
        for code, name, phone, unit in AGENTS:
            SalesAgent.objects.update_or_create(agent_code=code, defaults={"name": name, "phone": phone, "org_unit": units[unit]})
        call_command("deploy_processes", stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"demo data ready: {len(units)} org units, {len(USERS) + 1} users"))
