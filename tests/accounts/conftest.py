from __future__ import annotations

import pytest

PASSWORD = "demo-pass-2026"


@pytest.fixture
def people(db, django_user_model):
    """Three plain users with the demo password (no seeded org tree: sign-in needs none)."""
    return {name: django_user_model.objects.create_user(name, password=PASSWORD) for name in ("alice.sz", "bob.sz", "carol.sz")}
