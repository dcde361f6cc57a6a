"""Control 10: Django's four password validators, 12 characters at least."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import password_validation

from backend.accounts.services import user_password_set
from backend.common.exceptions import ValidationFailed
from tests.accounts.conftest import PASSWORD

pytestmark = pytest.mark.django_db

WEAK = {
    # validator that must refuse it → the password
    "UserAttributeSimilarityValidator": "alice.wonderland",  # the e-mail address set below
    "MinimumLengthValidator": "k7#Qz!p2Lm",  # 10 characters, otherwise strong
    "CommonPasswordValidator": "password1234",  # on Django's list of common passwords
    "NumericPasswordValidator": "48213907562183",  # 14 digits
}


def test_the_four_validators_are_on_with_length_at_least_12():
    names = {v["NAME"].rsplit(".", 1)[1]: v.get("OPTIONS", {}) for v in settings.AUTH_PASSWORD_VALIDATORS}
    assert set(names) == set(WEAK)
    assert names["MinimumLengthValidator"]["min_length"] >= 12


@pytest.mark.parametrize("validator", sorted(WEAK))
def test_each_validator_refuses_its_weak_password(people, validator):
    alice = people["alice.sz"]
    alice.email = "alice.wonderland@example.com"
    password = WEAK[validator]
    refusing = {type(v).__name__ for v in password_validation.get_default_password_validators() if _refuses(v, password, alice)}
    assert validator in refusing
    before = alice.password
    with pytest.raises(ValidationFailed) as exc:
        user_password_set(actor=alice, user=alice, password=password)
    assert exc.value.status_code == 400 and exc.value.field_errors["password"]
    alice.refresh_from_db()
    assert alice.password == before and alice.check_password(PASSWORD)


def _refuses(validator, password, user) -> bool:
    try:
        validator.validate(password, user)
    except Exception:
        return True
    return False


def test_the_demo_password_passes_every_validator(people):
    for user in people.values():
        password_validation.validate_password(PASSWORD, user)
    assert len(PASSWORD) == 14


def test_a_strong_password_is_set(people):
    alice = people["alice.sz"]
    user_password_set(actor=alice, user=alice, password="larch-tide-orbit-57")
    alice.refresh_from_db()
    assert alice.check_password("larch-tide-orbit-57")
