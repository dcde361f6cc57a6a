"""manage.py api_client create|rotate|revoke|list: API clients for upstream systems."""

from django.core.management.base import BaseCommand, CommandError

from backend.common.exceptions import ApplicationError
from backend.integrations.clients import api_client_create, api_client_revoke, api_client_rotate
from backend.integrations.models import ApiClient


class Command(BaseCommand):
    help = "Create, rotate, revoke or list API clients (the token is printed once)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("name")
        create.add_argument("--org-unit", required=True)
        create.add_argument("--scopes", default="open,query")
        create.add_argument("--callback-url", default="")
        for name in ("rotate", "revoke"):
            sub.add_parser(name).add_argument("client_id", type=int)
        sub.add_parser("list")

    def handle(self, *args, **options):
        try:
            action = options["action"]
            if action == "create":
                client, token = api_client_create(
                    actor=None,
                    name=options["name"],
                    org_unit_code=options["org_unit"],
                    scopes=options["scopes"].split(","),
                    callback_url=options["callback_url"],
                )
                self.stdout.write(f"client #{client.pk} token: {token}")
                self.stdout.write(f"callback secret: {client.callback_secret}")
            elif action == "rotate":
                client, token = api_client_rotate(actor=None, client_id=options["client_id"])
                self.stdout.write(f"client #{client.pk} new token: {token}")
            elif action == "revoke":
                client = api_client_revoke(actor=None, client_id=options["client_id"])
                self.stdout.write(f"client #{client.pk} revoked at {client.revoked_at:%Y-%m-%d %H:%M:%S}")
            else:
                for c in ApiClient.objects.select_related("org_unit").order_by("id"):
                    state = "revoked" if c.revoked_at else "active"
                    self.stdout.write(
                        f"#{c.pk} {c.name} {c.org_unit.code} {','.join(c.scopes)} {c.token_prefix}… {state}"
                    )
        except ApplicationError as exc:
            raise CommandError(
                "; ".join(m for v in exc.field_errors.values() for m in v) or exc.message
            ) from None
