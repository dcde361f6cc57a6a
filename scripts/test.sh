#!/usr/bin/env bash
# Installs everything and runs the whole suite: first the fast tier (SQLite, no browser, no
# integration, nothing heavy: the edit-test loop's tier, `scripts/test.sh --fast` runs only it),
# then everything on PostgreSQL + Redis (a real Celery worker and beat on Redis), then the rest
# on SQLite + the filesystem broker (the browser, integration and heavy tests of the embedded
# mode), then the benchmarks at a small size.
set -euo pipefail
cd "$(dirname "$0")/.."
FAST_ONLY=0
if [[ "${1:-}" == "--fast" ]]; then FAST_ONLY=1; shift; fi
FAST_TIER="not browser and not integration and not heavy and not slow"
# The test path installs the browser (Chromium) and the PDF tools the tests use; the demo does not.
scripts/setup.sh --test

# Start the local services if they are down (PostgreSQL and Redis on loopback, README.md).
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi

PYTEST=(.venv/bin/python -m pytest -p no:cacheprovider -n "${PYTEST_WORKERS:-2}" --dist loadgroup "$@")
export DJANGO_SETTINGS_MODULE=backend.config.settings.test

.venv/bin/ruff check .
.venv/bin/lint-imports
.venv/bin/python manage.py makemigrations --check --dry-run -v 0
.venv/bin/python manage.py check

echo "== fast tier: SQLite, no browser, no integration, nothing heavy =="
env -u DATABASE_URL -u CELERY_BROKER_URL "${PYTEST[@]}" -m "$FAST_TIER" --durations=15
if [[ "$FAST_ONLY" == 1 ]]; then exit 0; fi

echo "== suite on PostgreSQL + Redis =="
DATABASE_URL=${CI_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/custflow} \
CELERY_BROKER_URL=${CI_BROKER_URL:-redis://127.0.0.1:6379/5} \
CUSTFLOW_INTEGRATION=1 "${PYTEST[@]}"

echo "== the rest on SQLite + filesystem broker (browser, integration, heavy) =="
env -u DATABASE_URL -u CELERY_BROKER_URL CUSTFLOW_INTEGRATION=1 "${PYTEST[@]}" -m "not ($FAST_TIER)"

echo "== benchmarks (small size) =="
.venv/bin/python bench/run.py --small
