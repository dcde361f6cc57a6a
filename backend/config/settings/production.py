import os

from .base import *  # noqa: F403
from .base import CUSTFLOW, env_bool

DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
SECURE_SSL_REDIRECT = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
CUSTFLOW["SIGNING"]["ISSUE_DEMO_CERTIFICATES"] = env_bool("CUSTFLOW_DEMO_CERTIFICATES", False)
# Process owners upload diagrams: background timer steps get hard CPU/memory bounds here.
CUSTFLOW["TIMER_STEP_ISOLATION"]["ENABLED"] = env_bool("CUSTFLOW_TIMER_STEP_ISOLATION", True)
# Four eyes on every published diagram: uploads are refused, drafts are approved by a second owner.
CUSTFLOW["DIRECT_DEPLOY"] = env_bool("CUSTFLOW_DIRECT_DEPLOY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
