import os

from .base import *  # noqa: F403
from .base import CUSTFLOW, VAR_DIR

# Unit tests run jobs inline; integration tests start a real worker with their own settings.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CUSTFLOW_INTEGRATION") != "1"
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = VAR_DIR / "test-media"
CUSTFLOW["SCRIPT_MAX_SECONDS"] = 2.0

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not :memory:, so a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-custflow.sqlite3")}  # noqa: F405
