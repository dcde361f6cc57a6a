#!/usr/bin/env bash
# Embedded demo: SQLite + kombu's filesystem broker, a real Celery worker and beat in the
# background, the web server on http://127.0.0.1:8000. No server needs to be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export DJANGO_SETTINGS_MODULE=backend.config.settings.local
unset DATABASE_URL CELERY_BROKER_URL
# Callbacks may reach only this local sink inside the network (control 14).
export CUSTFLOW_CALLBACK_ALLOWED_HOSTS="${CUSTFLOW_CALLBACK_ALLOWED_HOSTS:-127.0.0.1:9}"
PY=.venv/bin/python
$PY manage.py migrate --noinput -v 0
$PY manage.py seed_demo --with-policies --with-complaints
$PY manage.py demo_certificates -v 0 >/dev/null
mkdir -p var/log var/broker/out var/broker/processed
.venv/bin/celery -A backend.config worker --beat --concurrency 2 --loglevel INFO \
  --schedule var/celerybeat-schedule >var/log/worker.log 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM
echo "worker + beat running (pid $WORKER, log var/log/worker.log)"
echo "custflow demo: http://127.0.0.1:8000  (users in README.md, password demo-pass-2026)"
$PY manage.py runserver 127.0.0.1:8000 --noreload
