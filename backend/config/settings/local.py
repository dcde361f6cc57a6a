import os

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)

# The demo's upstream systems post callbacks to a local sink (nothing listens on port 9).
CUSTFLOW_CALLBACK_ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("CUSTFLOW_CALLBACK_ALLOWED_HOSTS", "127.0.0.1:9").split(",") if h.strip()
]
