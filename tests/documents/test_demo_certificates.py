from __future__ import annotations

import io

import pytest
from cryptography import x509
from django.core.management import call_command

from backend.organisation.models import OrgUnit

pytestmark = pytest.mark.django_db


def test_demo_certificates_cover_every_org_unit(demo, settings, tmp_path):
    settings.CUSTFLOW = {
        **settings.CUSTFLOW,
        "SIGNING": {**settings.CUSTFLOW["SIGNING"], "CERT_DIR": str(tmp_path)},
    }
    call_command("demo_certificates", stdout=io.StringIO())
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.cert.pem").read_bytes())
    units = list(OrgUnit.objects.all())
    assert len(units) >= 3
    for unit in units:
        cert = x509.load_pem_x509_certificate((tmp_path / f"{unit.code}.cert.pem").read_bytes())
        assert cert.issuer == ca.subject
        assert (
            cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == f"{unit.name} 电子签章"
        )
        assert (tmp_path / f"{unit.code}.key.pem").stat().st_mode & 0o777 == 0o600
