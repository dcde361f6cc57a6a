"""Settings shared by every run mode. Configuration comes from environment variables only.

Embedded mode (the default) needs no server: SQLite and kombu's filesystem broker.
Set DATABASE_URL and CELERY_BROKER_URL to move to PostgreSQL and Redis; nothing else changes.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parents[3]
VAR_DIR = Path(os.environ.get("CUSTFLOW_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-custflow-2026")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "axes",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "backend.common",
    "backend.accounts",
    "backend.organisation",
    "processes",
    "tasks",
    "forms",
    "pdfs",
    "backend.customers",
    "backend.policies",
    "backend.integrations",
    "backend.reports",
    "backend.complaints",
    "backend.service",
    "backend.segments",
    "backend.hotline",
    "backend.api",
    "backend.web",
    "backend.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "backend.common.middleware.ExplicitLanguageOnlyMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in refused by a lockout into 429 + Retry-After.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backend.config.urls"
WSGI_APPLICATION = "backend.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'custflow.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        # A kept connection is checked before a request reuses it (a restarted server's
        # connections are replaced, not failed on).
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, beat) share one file: wait for the write lock
    # instead of failing, and take it at BEGIN so a transaction never upgrades mid-way.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("CUSTFLOW_PASSWORD_MIN_LENGTH", "12"))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Sign-in (docs/SECURITY.md §10) -----------------------------------------------------------
# django-axes: after AXES_FAILURE_LIMIT failures for one username, or from one client address
# (across usernames), sign-in is refused for the cool-off, even with the right password; every
# refused attempt restarts the cool-off. Unlock early: `manage.py axes_reset_username <name>`.
AUTHENTICATION_BACKENDS = [
    "backend.accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("CUSTFLOW_SIGNIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("CUSTFLOW_SIGNIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "backend.accounts.signin.lockout_response"
AXES_RESET_ON_SUCCESS = False
# The client address: REMOTE_ADDR, or behind REST_FRAMEWORK["NUM_PROXIES"] trusted reverse
# proxies (CUSTFLOW_NUM_PROXIES, each appending to X-Forwarded-For) the address the outermost
# one saw. Without it every sign-in behind a proxy would share the proxy's address.
AXES_CLIENT_IP_CALLABLE = "backend.accounts.signin.client_ip"
# API tokens for people (django-rest-knox, `Authorization: Token …`): dead after TOKEN_TTL
# without use (each use renews it, at most once a minute) and AUTO_REFRESH_MAX_TTL after
# sign-in whatever the use; on sign-out (`POST /api/auth/logout/`) and on a password change.
KNOX_TOKEN_MODEL = "accounts.AuthToken"
# knox's own migrations create its default token table even when the model is swapped (they
# have no `swappable` option): that stray table, holding a foreign key to users, would block
# PostgreSQL from truncating users. The token table is accounts' (`backend/accounts/migrations`).
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": timedelta(minutes=float(os.environ.get("CUSTFLOW_TOKEN_IDLE_MINUTES", "30"))),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(hours=float(os.environ.get("CUSTFLOW_TOKEN_MAX_HOURS", "10"))),
    "MIN_REFRESH_INTERVAL": 60,
    "AUTH_HEADER_PREFIX": "Token",
}
# Web sessions end after this long without a request (each request renews the cookie), on
# sign-out (the session row is deleted) and on a password change (Django's session auth hash).
SESSION_COOKIE_AGE = int(float(os.environ.get("CUSTFLOW_SESSION_IDLE_MINUTES", "30")) * 60)
SESSION_SAVE_EVERY_REQUEST = True
# Database sessions that survive a cut connection (backend/accounts/sessions.py).
SESSION_ENGINE = "backend.accounts.sessions"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static_root"
MEDIA_ROOT = Path(os.environ.get("CUSTFLOW_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "backend.api.authentication.UserTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "backend.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "backend.api.exception_handler.custom_exception_handler",
    # Anonymous verification uploads (API and /verify/ page) per client address; the address is
    # REMOTE_ADDR, or the entry this many proxies back in X-Forwarded-For (set 1 behind the TLS
    # proxy; never trust a client-sent X-Forwarded-For without a proxy that overwrites it).
    "NUM_PROXIES": int(os.environ.get("CUSTFLOW_NUM_PROXIES", "0")),
    "DEFAULT_THROTTLE_RATES": {"document_verify": os.environ.get("CUSTFLOW_VERIFY_RATE", "10/min")},
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
# Callback URLs may not point inside the network (loopback, private, link-local, reserved,
# multicast) unless their host or host:port is listed here (comma separated).
CUSTFLOW_CALLBACK_ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("CUSTFLOW_CALLBACK_ALLOWED_HOSTS", "").split(",") if h.strip()
]

SPECTACULAR_SETTINGS = {
    "TITLE": "custflow API",
    "DESCRIPTION": "Customer information and complaint workflows",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for the choice set of backend.service.models.ManagerGrade, which several fields
    # use (requested_grade, grade): settings cannot import the model, so its values are listed.
    "ENUM_NAME_OVERRIDES": {
        "ManagerGradeEnum": ["principal", "senior", "regular", "junior", "trainee"],
        # The statuses of a request decided by one approval (qualification, assignment).
        "ApprovalStatusEnum": ["pending", "approved", "rejected", "cancelled"],
    },
}

# --- Celery -------------------------------------------------------------------------------
BROKER_DIR = Path(os.environ.get("CUSTFLOW_BROKER_DIR", VAR_DIR / "broker"))
EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "custflow <noreply@custflow.example>")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Fanout exchange tables (celery's pidbox); kombu's default is ./control in the cwd.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {
        # Redis: a job whose worker died (kill -9, lost machine) is handed out again once it has
        # been unacknowledged this long; keep it above the longest job (jobs are idempotent).
        "visibility_timeout": int(os.environ.get("CUSTFLOW_BROKER_VISIBILITY_TIMEOUT", "3600")),
        "unacked_restore_interval": int(os.environ.get("CUSTFLOW_BROKER_RESTORE_INTERVAL", "10")),
        "unacked_restore_throttle": 1,
    }
)
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CUSTFLOW_QUEUE", "custflow")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = "UTC"
# A sweep job runs until nothing is due (or TIMER_SWEEP_MAX_SECONDS): a short period lets every
# worker process join a backlog within seconds; ticks that waited behind a long sweep expire
# (after 10 periods, at least 30 s) rather than pile up.
_TIMER_SWEEP_SECONDS = float(os.environ.get("CUSTFLOW_TIMER_SWEEP_SECONDS", "2"))
CELERY_BEAT_SCHEDULE = {
    "sweep-timers": {
        "task": "processes.sweep_timers",
        "schedule": timedelta(seconds=_TIMER_SWEEP_SECONDS),
        "options": {"expires": max(10 * _TIMER_SWEEP_SECONDS, 30.0)},
    },
}
# The transactional outbox's relay: publishes the jobs that committed writes queued (see
# backend/common/outbox.py); the kick after each commit usually got there first.
CELERY_BEAT_SCHEDULE["relay-outbox"] = {
    "task": "common.relay_outbox",
    "schedule": timedelta(seconds=float(os.environ.get("CUSTFLOW_OUTBOX_RELAY_SECONDS", "10"))),
}
# Notifications whose e-mail never went out (a job lost with the broker, a mail server down).
CELERY_BEAT_SCHEDULE["resend-notification-emails"] = {
    "task": "tasks.resend_notification_emails",
    "schedule": timedelta(seconds=float(os.environ.get("CUSTFLOW_NOTIFICATION_RESEND_SWEEP_SECONDS", "60"))),
}
# 每日汇总: one e-mail a day to users who chose the digest (18:00 Beijing time by default).
CELERY_BEAT_SCHEDULE["notification-digest"] = {
    "task": "tasks.send_notification_digests",
    "schedule": crontab(minute=0, hour=int(os.environ.get("CUSTFLOW_NOTIFICATION_DIGEST_HOUR_UTC", "10"))),
}
CELERY_BEAT_SCHEDULE["deliver-callbacks"] = {
    "task": "integrations.deliver_callbacks",
    "schedule": timedelta(seconds=float(os.environ.get("CUSTFLOW_CALLBACK_SWEEP_SECONDS", "30"))),
}
# 抽样核实: the 1st of every month at 02:00 UTC samples the previous month (idempotent per month).
CELERY_BEAT_SCHEDULE["sample-verification"] = {
    "task": "integrations.sample_verification",
    "schedule": crontab(minute=0, hour=2, day_of_month=1),
}
# 资格年度认证: every morning, open the recertifications whose anniversary has come (02:40 Beijing time).
CELERY_BEAT_SCHEDULE["manager-recertifications"] = {
    "task": "service.recertifications_open_due",
    "schedule": crontab(minute=40, hour=18),
}
# 客服信息分析报告: every day early morning (Beijing time); archives the previous month once the
# first working day of the month has come (idempotent: one archive per unit and month).
CELERY_BEAT_SCHEDULE["service-report-monthly"] = {
    "task": "hotline.archive_monthly_service_report",
    "schedule": crontab(minute=20, hour=19),  # 03:20 Beijing
}
CELERY_BEAT_SCHEDULE["customer-segments"] = {
    "task": "segments.assign_nightly",
    "schedule": crontab(minute=10, hour=18),  # 02:10 Beijing
}
# 月度走访分析报告: every morning, open last month's visit report of every active customer manager
# who has none yet (idempotent per manager and month; 02:50 Beijing time).
CELERY_BEAT_SCHEDULE["manager-visit-reports"] = {
    "task": "service.visit_reports_open_due",
    "schedule": crontab(minute=50, hour=18),
}
# 回访与提醒: every morning, open the revisits the plan owes (idempotent per customer, kind and
# period; 03:00 Beijing time).
CELERY_BEAT_SCHEDULE["revisits-plan"] = {
    "task": "service.revisits_plan",
    "schedule": crontab(minute=0, hour=19),
}
CELERY_BEAT_SCHEDULE["id-expiry"] = {
    "task": "customers.id_expiry_run",
    "schedule": crontab(minute=30, hour=2, day_of_month=1),
}
CELERY_BEAT_SCHEDULE["prospects-expire"] = {
    "task": "customers.prospects_expire",
    "schedule": crontab(minute=20, hour=19),  # 03:20 Beijing, daily
}
CELERY_BEAT_SCHEDULE["deliver-customer-notices"] = {
    "task": "customers.deliver_notices",
    "schedule": timedelta(seconds=float(os.environ.get("CUSTFLOW_NOTICE_SWEEP_SECONDS", "60"))),
}
# Where customer change notices (SMS/letter) go: a dotted path to a class with
# send(*, notice, recipient); the default logs them (demo, tests).
CUSTFLOW_CUSTOMER_NOTICE_BACKEND = os.environ.get(
    "CUSTFLOW_CUSTOMER_NOTICE_BACKEND", "backend.customers.notices.LogNoticeBackend"
)
CELERY_BEAT_SCHEDULE["sweep-sla-breaches"] = {
    "task": "reports.sweep_sla_breaches",
    "schedule": timedelta(seconds=float(os.environ.get("CUSTFLOW_SLA_SWEEP_SECONDS", "300"))),
}
# The previous month's SLA report, archived early on the 2nd (idempotent: re-runs keep the archive).
CELERY_BEAT_SCHEDULE["archive-monthly-sla"] = {
    "task": "reports.archive_monthly_sla",
    "schedule": crontab(minute=30, hour=17, day_of_month="1"),  # 01:30 on the 2nd, Beijing time
}
# 客户投诉分析表: every day early morning (Beijing time); the job archives the previous month
# once the first working day of the month has come (idempotent: one archive per unit and month).
CELERY_BEAT_SCHEDULE["archive-monthly-complaint-analysis"] = {
    "task": "complaints.archive_monthly_analysis",
    "schedule": crontab(minute=0, hour=22),  # 06:00 Beijing time
}
# The audit trail verified end to end and its stream heads checkpointed (signed, outside the database).
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "common.audit_checkpoint",
    "schedule": timedelta(seconds=float(os.environ.get("CUSTFLOW_AUDIT_CHECKPOINT_SECONDS", "3600"))),
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Cache (rate-limit counters): shared by every web process ------------------------------
# Redis (CUSTFLOW_CACHE_URL, default: the Redis broker); embedded mode: files under var/.
CACHE_URL = os.environ.get(
    "CUSTFLOW_CACHE_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""
)
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL, "KEY_PREFIX": "custflow"}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}
    )
}

# --- Domain settings (every figure is a setting, not a constant) --------------------------
# Look-ups by identifier (POST /api/customers/search/, the web search form, the upstream
# check) each user may make per hour; the next one is a 429 with Retry-After.
LOOKUP_LIMIT_PER_HOUR = int(os.environ.get("LOOKUP_LIMIT_PER_HOUR", "60"))

CUSTFLOW = {
    # Deadlines named in the diagrams; the diagram holds the default, this overrides it.
    "DEADLINES": {
        "review": os.environ.get("CUSTFLOW_REVIEW_DEADLINE", "PT48H"),
        # A verification follow-up (retry, letter, visit) after an unreachable call.
        "verification_followup": os.environ.get("CUSTFLOW_VERIFICATION_FOLLOWUP_DEADLINE", "P5WD"),
        # 客服管理部 supervises a cross-province complaint hand-over within this time.
        "complaint_cross_province": os.environ.get("CUSTFLOW_COMPLAINT_CROSS_PROVINCE_DEADLINE", "P2WD"),
        # The branch asks a customer whose identity document expires for the new one.
        "id_document_update": os.environ.get("CUSTFLOW_ID_DOCUMENT_UPDATE_DEADLINE", "P20WD"),
        # A customer's major event (重大事件) reaches the unit head and the service centre in a working day.
        "major_event": os.environ.get("CUSTFLOW_MAJOR_EVENT_DEADLINE", "P1WD"),
        # 资格年度认证: the manager submits last year's assessment within this time of the anniversary.
        "recertification": os.environ.get("CUSTFLOW_RECERTIFICATION_DEADLINE", "P10WD"),
        # 月度走访分析报告: the report on month M is due this far into month M+1 (P5WD: the end of
        # its 5th working day); the manager's step carries the same deadline.
        "visit_report": os.environ.get("CUSTFLOW_VISIT_REPORT_DEADLINE", "P5WD"),
        # 回访与提醒: a key customer's visit (or a stale record's update), a call, a renewal reminder.
        "revisit_visit": os.environ.get("CUSTFLOW_REVISIT_VISIT_DEADLINE", "P10WD"),
        "revisit_call": os.environ.get("CUSTFLOW_REVISIT_CALL_DEADLINE", "P3WD"),
        "renewal_reminder": os.environ.get("CUSTFLOW_RENEWAL_REMINDER_DEADLINE", "P5WD"),
    },
    # 回访与提醒 (seed 001 §三、§四): what the daily plan job (service.revisits_plan) opens.
    "REVISITS": {
        # A renewal reminder for every policy in force that ends within this many days.
        "RENEWAL_DAYS": int(os.environ.get("CUSTFLOW_RENEWAL_DAYS", "30")),
        # A record update for a managed customer not verified for this many days.
        "STALE_DAYS": int(os.environ.get("CUSTFLOW_REVISIT_STALE_DAYS", "365")),
        # At most this many record updates per branch and run, the oldest first (no flood).
        "STALE_PER_BRANCH": int(os.environ.get("CUSTFLOW_REVISIT_STALE_PER_BRANCH", "500")),
        # Complaints closed this many days back still get their satisfaction call.
        "COMPLAINT_DAYS": int(os.environ.get("CUSTFLOW_REVISIT_COMPLAINT_DAYS", "30")),
    },
    # A reminder goes out when this fraction of a deadline has passed.
    "REMINDER_FRACTION": float(os.environ.get("CUSTFLOW_REMINDER_FRACTION", "0.75")),
    # Masking: characters kept visible at the start and the end of each personal field.
    "MASKING": {
        "id_number": (1, 1),
        "phone": (3, 4),
        "address": (6, 0),
        "email": (1, 0),
        "legal_rep_id_number": (1, 1),
        # The file's static part: the employer keeps its first character, family and income none.
        "employer": (1, 0),
        "family_members": (0, 0),
        "income_band": (0, 0),
        # A customer's or complainant's name where lists show it (the inbox rows): 张*丰, 张*.
        "customer_name": (1, 1),
    },
    # Roles whose holders see personal fields unmasked (each full view is audited).
    "FULL_VIEW_ROLES": ["officer"],
    # 查看完整信息: roles that may reveal one masked field, with a reason (each reveal is logged),
    # and how many reveals one user may make in a window.
    "REVEAL_ROLES": ["officer", "reviewer", "compliance", "customer_service", "complaint_handler"],
    "REVEAL_RATE_LIMIT": {"count": 20, "minutes": 60},
    # Customer data not confirmed for this many days is shown as stale (过期).
    "FRESHNESS_DAYS": 365,
    "SCAN_MAX_BYTES": 10 * 1024 * 1024,
    # 证件有效期: the monthly job opens an update task for documents expiring within this many
    # days (or expired); the customer file marks them 即将到期 / 已过期.
    "ID_EXPIRY_NOTICE_DAYS": int(os.environ.get("CUSTFLOW_ID_EXPIRY_NOTICE_DAYS", "60")),
    # 准客户 (seed 003 §1.3–1.4): an unconverted prospect expires this many days after it was
    # recorded; its personal data is blanked PURGE_DAYS after it expired (job customers.prospects_expire).
    "PROSPECTS": {
        "EXPIRE_DAYS": int(os.environ.get("CUSTFLOW_PROSPECT_EXPIRE_DAYS", "180")),
        "PURGE_DAYS": int(os.environ.get("CUSTFLOW_PROSPECT_PURGE_DAYS", "30")),
    },
    # Scan images (JPEG, PNG) are decoded for verification in a killable child.
    "IMAGE_LIMITS": {
        "SECONDS": float(os.environ.get("CUSTFLOW_IMAGE_SECONDS", "2")),
        "MEMORY_MB": int(os.environ.get("CUSTFLOW_IMAGE_MEMORY_MB", "512")),
    },
    # Timer steps per sweep batch (one bounded child with isolation on), and how long one beat
    # sweep job keeps taking batches while timers are due.
    "TIMER_SWEEP_BATCH": int(os.environ.get("CUSTFLOW_TIMER_SWEEP_BATCH", "200")),
    "TIMER_SWEEP_MAX_SECONDS": float(os.environ.get("CUSTFLOW_TIMER_SWEEP_MAX_SECONDS", "60")),
    # 催办: at most one reminder per task in this many minutes.
    "REMIND_MIN_INTERVAL_MINUTES": int(os.environ.get("CUSTFLOW_REMIND_MIN_INTERVAL_MINUTES", "30")),
    # A direct upload deploys at once (no second owner). Off in production: publish through drafts.
    "DIRECT_DEPLOY": env_bool("CUSTFLOW_DIRECT_DEPLOY", True),
    # Largest BPMN file a process owner may upload or save as a draft.
    "MAX_DIAGRAM_BYTES": int(os.environ.get("CUSTFLOW_MAX_DIAGRAM_BYTES", str(2 * 1024 * 1024))),
    # Timer steps in a forked child with hard bounds (C-level work the in-process sandbox cannot
    # interrupt): a memory margin over the worker's size and a wall-clock kill. Linux only.
    "TIMER_STEP_ISOLATION": {
        "ENABLED": env_bool("CUSTFLOW_TIMER_STEP_ISOLATION", False),
        "SECONDS": float(os.environ.get("CUSTFLOW_TIMER_STEP_SECONDS", "10")),
        "MEMORY_MB": int(os.environ.get("CUSTFLOW_TIMER_STEP_MEMORY_MB", "512")),
    },
    # bpmnlint's recommended rules on draft saves (warnings only; needs Node and npm packages).
    "BPMNLINT": {"ENABLED": env_bool("CUSTFLOW_BPMNLINT", True), "TIMEOUT": 10},
    "SCRIPT_MAX_STEPS": 100_000,
    "SCRIPT_MAX_SECONDS": 2.0,
    # Every script, condition and expression of a diagram runs in a pool of sandbox worker
    # processes (processes/engine/pool.py), in web requests, workers and timers alike: per worker
    # an address-space margin, CPU seconds and wall-clock seconds per call (then the worker is
    # killed and replaced), a recursion limit, and a replacement after MAX_TASKS calls.
    "SCRIPT_POOL": {
        "WORKERS": int(os.environ.get("CUSTFLOW_SCRIPT_POOL_WORKERS", "2")),
        "MEMORY_MB": int(os.environ.get("CUSTFLOW_SCRIPT_POOL_MEMORY_MB", "256")),
        "CPU_SECONDS": float(os.environ.get("CUSTFLOW_SCRIPT_POOL_CPU_SECONDS", "3")),
        "TIMEOUT_SECONDS": float(os.environ.get("CUSTFLOW_SCRIPT_POOL_TIMEOUT_SECONDS", "3")),
        "RECURSION_LIMIT": int(os.environ.get("CUSTFLOW_SCRIPT_POOL_RECURSION_LIMIT", "400")),
        "MAX_TASKS": int(os.environ.get("CUSTFLOW_SCRIPT_POOL_MAX_TASKS", "1000")),
    },
    # Status callbacks to upstream systems: retried with exponential backoff, every attempt logged.
    # The transactional outbox: publish retries back off exponentially and never give up.
    "OUTBOX": {
        "BATCH": int(os.environ.get("CUSTFLOW_OUTBOX_BATCH", "200")),
        "BACKOFF_SECONDS": float(os.environ.get("CUSTFLOW_OUTBOX_BACKOFF_SECONDS", "5")),
        "MAX_BACKOFF_SECONDS": float(os.environ.get("CUSTFLOW_OUTBOX_MAX_BACKOFF_SECONDS", "300")),
        "KEEP_PUBLISHED_DAYS": int(os.environ.get("CUSTFLOW_OUTBOX_KEEP_PUBLISHED_DAYS", "7")),
    },
    # A notification still not e-mailed this long after it was made is sent again by a sweep
    # (its job was lost, or the mail server was down); older than the age limit it is left alone.
    "NOTIFICATION_EMAIL": {
        "RESEND_AFTER_MINUTES": int(os.environ.get("CUSTFLOW_NOTIFICATION_RESEND_MINUTES", "10")),
        "RESEND_MAX_AGE_HOURS": int(os.environ.get("CUSTFLOW_NOTIFICATION_RESEND_MAX_AGE_HOURS", "168")),
    },
    "CALLBACKS": {"MAX_ATTEMPTS": 10, "BACKOFF_SECONDS": 30, "MAX_BACKOFF_SECONDS": 3600, "TIMEOUT_SECONDS": 10},
    # Historical import: a phone already held by this many customers makes a new row suspicious.
    "IMPORT_SHARED_PHONE_LIMIT": int(os.environ.get("CUSTFLOW_IMPORT_SHARED_PHONE_LIMIT", "3")),
    # 抽样核实: share of last month's new and changed customers drawn per org unit (at least one).
    # The hotline printed on customer change notices (SMS and letters).
    "SERVICE_HOTLINE": os.environ.get("CUSTFLOW_SERVICE_HOTLINE", "95500"),
    "SAMPLE_VERIFICATION_SHARE": float(os.environ.get("CUSTFLOW_SAMPLE_VERIFICATION_SHARE", "0.05")),
    # Customers not verified (nor opened) for this many days join every monthly sample in full.
    "VERIFY_AFTER_DAYS": int(os.environ.get("CUSTFLOW_VERIFY_AFTER_DAYS", "365")),
    # The n-th unreachable call (first call plus follow-ups) marks the customer unreachable.
    "VERIFY_UNREACHABLE_ATTEMPTS": int(os.environ.get("CUSTFLOW_VERIFY_UNREACHABLE_ATTEMPTS", "3")),
    # Data-quality page: a phone shared by at least this many customers is a cluster.
    "SHARED_PHONE_CLUSTER_MIN": 3,
    "SITE_URL": os.environ.get("CUSTFLOW_SITE_URL", "http://127.0.0.1:8000"),
    # Signed forms (pdfs/certificates.py): per org-unit code {"key", "cert", "chain",
    # "passphrase_env"} as JSON in CUSTFLOW_SIGNING_ORG_UNITS; demo certificates from a local CA
    # under CERT_DIR are issued for org units without one while ISSUE_DEMO_CERTIFICATES is on.
    "SIGNING": {
        "CERT_DIR": os.environ.get("CUSTFLOW_CERT_DIR", str(VAR_DIR / "certs")),
        "ORG_UNITS": json.loads(os.environ.get("CUSTFLOW_SIGNING_ORG_UNITS", "{}")),
        "TRUST_ROOTS": [p for p in os.environ.get("CUSTFLOW_SIGNING_TRUST_ROOTS", "").split(",") if p],
        "ISSUE_DEMO_CERTIFICATES": env_bool("CUSTFLOW_DEMO_CERTIFICATES", True),
    },
    # Audit checkpoints (backend/common/audit_checkpoints.py): signed heads of every audit stream,
    # written by the beat job and `manage.py audit_verify` to files here (keep it off the database
    # host, e.g. on the shared storage, and ship the log) and signed with CHECKPOINT_KEY (default:
    # derived from SECRET_KEY).
    "AUDIT": {
        "CHECKPOINT_DIR": os.environ.get("CUSTFLOW_AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit-checkpoints")),
        "CHECKPOINT_KEY": os.environ.get("CUSTFLOW_AUDIT_CHECKPOINT_KEY", ""),
    },
    # A reprint (副本) asks for a reason of this many characters.
    "REPRINT_REASON_LENGTH": (4, 500),
    # Uploads to /verify/<id> and the verification API.
    "VERIFY_MAX_BYTES": 20 * 1024 * 1024,
    # Every uploaded PDF is read in a killable child (pdfs/reading.py): wall clock, memory over
    # the worker's size, and structural limits checked on the raw bytes before pyHanko parses.
    "PDF_LIMITS": {
        "SECONDS": float(os.environ.get("CUSTFLOW_PDF_SECONDS", "2")),
        "MEMORY_MB": int(os.environ.get("CUSTFLOW_PDF_MEMORY_MB", "512")),
        "MAX_OBJECTS": int(os.environ.get("CUSTFLOW_PDF_MAX_OBJECTS", "100000")),
        "MAX_NESTING": 64,
        "MAX_TREE_DEPTH": 32,
        "MAX_INFLATED_BYTES": int(os.environ.get("CUSTFLOW_PDF_MAX_INFLATED_BYTES", str(64 * 1024 * 1024))),
    },
    # XLSX imports are checked on the zip directory and streamed counts before openpyxl parses
    # them (in the Celery worker only, never in the request thread; integrations/spreadsheets.py).
    "XLSX_LIMITS": {
        "MAX_ENTRIES": 10_000,
        "MAX_UNCOMPRESSED_BYTES": int(os.environ.get("CUSTFLOW_XLSX_MAX_UNCOMPRESSED_BYTES", str(1024 * 1024 * 1024))),
        "MAX_RATIO": int(os.environ.get("CUSTFLOW_XLSX_MAX_RATIO", "200")),
        "MAX_SHARED_STRINGS": int(os.environ.get("CUSTFLOW_XLSX_MAX_SHARED_STRINGS", "1000000")),
        "MAX_CELLS": int(os.environ.get("CUSTFLOW_XLSX_MAX_CELLS", "20000000")),
        # The pre-check itself runs in a killable child with these bounds.
        "SECONDS": float(os.environ.get("CUSTFLOW_XLSX_CHECK_SECONDS", "2")),
        "MEMORY_MB": 256,
    },
    # SLA: a ready task is "due soon" this many hours before its deadline.
    "SLA_DUE_SOON_HOURS": float(os.environ.get("CUSTFLOW_SLA_DUE_SOON_HOURS", "8")),
    # Who reads SLA reports (within the subtrees of the org units where they hold the role).
    "REPORT_ROLES": ["compliance", "process_owner", "customer_service"],
    # Who reads the per-collector statistics (openings, returns, flags per collector: the
    # incentive of seed 003 §1.1.1), within the subtrees of the org units where they hold the role.
    "COLLECTOR_REPORT_ROLES": ["officer", "compliance"],
    # Batch print: at most this many cases in one merged PDF.
    "BATCH_PRINT_MAX": 200,
    # 投诉 (管理办法 2020 art. 18–23): every figure of the regulatory clock is a setting.
    "COMPLAINTS": {
        "BASE_DAYS": int(os.environ.get("CUSTFLOW_COMPLAINT_BASE_DAYS", "15")),
        "COMPLEX_DAYS": int(os.environ.get("CUSTFLOW_COMPLAINT_COMPLEX_DAYS", "30")),
        "MAX_DAYS": int(os.environ.get("CUSTFLOW_COMPLAINT_MAX_DAYS", "60")),
        # natural (自然日) or working (工作日) days for the decision deadline.
        "CLOCK_MODE": os.environ.get("CUSTFLOW_COMPLAINT_CLOCK_MODE", "natural"),
        # A complaint transferred by the regulator is registered within this many working days.
        "REGULATOR_ACK_WORKING_DAYS": 7,
        # Reminders this many hours before each deadline.
        "REMIND_BEFORE_HOURS": {"decision": 72, "regulator_ack": 24},
        # The complainant may ask for a review (核查) within this many days of the decision; the
        # upper-level org decides within REVIEW_DECISION_DAYS.
        "REVIEW_REQUEST_DAYS": 30,
        "REVIEW_DECISION_DAYS": 30,
        # Duplicate detection at intake: same complainant, same subject, within this window.
        "DUPLICATE_WINDOW_DAYS": int(os.environ.get("CUSTFLOW_COMPLAINT_DUPLICATE_WINDOW_DAYS", "30")),
        # This many complainants on one subject (within the window) make a major complaint (群体投诉).
        "MAJOR_COMPLAINANTS": int(os.environ.get("CUSTFLOW_COMPLAINT_MAJOR_COMPLAINANTS", "20")),
        "ATTACHMENT_MAX_BYTES": 20 * 1024 * 1024,
    },
}

# Identifiers (resident ids, USCCs, mobile numbers) never reach a log line: every handler
# carries the redacting filter, including runserver's access log (django.server) and
# gunicorn's (gunicorn.access / gunicorn.error, routed here when gunicorn runs the app), and
# LOGGING_CONFIG also redacts each record when it is created.
LOGGING_CONFIG = "backend.common.log_redaction.configure_logging"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_identifiers": {"()": "backend.common.log_redaction.RedactIdentifiersFilter"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_identifiers"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_identifiers"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("CUSTFLOW_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "ERROR"},
        "spiff": {"level": "WARNING"},
    },
}
