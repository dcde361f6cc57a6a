import os

from .base import *  # noqa: F403
from .base import CUSTFLOW, VAR_DIR

# Unit tests run jobs inline; integration tests start a real worker with their own settings.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CUSTFLOW_INTEGRATION") != "1"
CELERY_TASK_EAGER_PROPAGATES = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = VAR_DIR / "test-media"
CUSTFLOW["SCRIPT_MAX_SECONDS"] = 2.0
# Demo signing certificates of one test run (issued on first use; xdist workers share them).
CUSTFLOW["SIGNING"] = {**CUSTFLOW["SIGNING"], "CERT_DIR": str(VAR_DIR / f"test-certs-{os.environ.setdefault('CUSTFLOW_TEST_RUN', str(os.getpid()))}")}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not :memory:, so a real worker process can share the test database.
    # One file per test run, so two runs in one checkout never share it.
    _RUN = os.environ.setdefault("CUSTFLOW_TEST_RUN", str(os.getpid()))
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-custflow-{_RUN}.sqlite3")}  # noqa: F405

# Rate-limit counters live in each test process (tests/conftest.py clears them per test).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Audit checkpoints of one test run (tests/conftest.py gives every test its own directory).
CUSTFLOW["AUDIT"] = {**CUSTFLOW["AUDIT"], "CHECKPOINT_DIR": str(VAR_DIR / f"test-audit-checkpoints-{os.environ['CUSTFLOW_TEST_RUN']}")}
