"""Issue demo signing certificates: a local CA and one certificate per org unit (var/certs).

Production configures real certificates per org unit (CUSTFLOW_SIGNING_ORG_UNITS) instead.
"""

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from backend.organisation.models import OrgUnit
from pdfs.certificates import ca_certificate_path, demo_certificate_issue


class Command(BaseCommand):
    help = "Issue demo signing certificates (local CA + one per org unit) under CUSTFLOW SIGNING CERT_DIR."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="re-issue existing org-unit certificates")

    def handle(self, *args, force: bool = False, **options):
        try:
            units = list(OrgUnit.objects.order_by("path").values_list("code", "name"))
        except DatabaseError:  # not migrated yet: the CA alone
            units = []
        # The CA is created with the first certificate; a fresh install gets it from a throwaway.
        for code, name in units or [("demo-ca-probe", "demo")]:
            key, cert = demo_certificate_issue(code, name, force=force)
            if units:
                self.stdout.write(f"{code}: {cert}")
        if not units:
            for suffix in (".key.pem", ".cert.pem"):
                (ca_certificate_path().parent / f"demo-ca-probe{suffix}").unlink(missing_ok=True)
        self.stdout.write(f"CA: {ca_certificate_path()}")
