#!/usr/bin/env bash
# Embedded demo: SQLite + kombu's filesystem broker (both under var/, ignored by git), a real
# Celery worker and beat in the background, the web server on http://127.0.0.1:$PORT
# (PORT defaults to 8000). No server and no browser need to be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
case "$PORT" in
  '' | *[!0-9]*) echo "PORT must be a number (got '$PORT')" >&2; exit 2 ;;
esac
if [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then echo "PORT must be 1-65535 (got $PORT)" >&2; exit 2; fi
scripts/setup.sh
export DJANGO_SETTINGS_MODULE=backend.config.settings.local
unset DATABASE_URL CELERY_BROKER_URL
# QR codes on printed forms point at this server.
export CUSTFLOW_SITE_URL="${CUSTFLOW_SITE_URL:-http://127.0.0.1:$PORT}"
# Callbacks may reach only this local sink inside the network (control 14).
export CUSTFLOW_CALLBACK_ALLOWED_HOSTS="${CUSTFLOW_CALLBACK_ALLOWED_HOSTS:-127.0.0.1:9}"
PY=.venv/bin/python
$PY manage.py migrate --noinput -v 0
$PY manage.py seed_demo --with-policies --with-complaints
$PY manage.py demo_certificates -v 0 >/dev/null
mkdir -p var/log var/broker/out var/broker/processed var/broker/control
.venv/bin/celery -A backend.config worker --beat --concurrency 2 --loglevel INFO \
  --schedule var/celerybeat-schedule >var/log/worker.log 2>&1 &
WORKER=$!
$PY manage.py runserver "127.0.0.1:$PORT" --noreload >var/log/web.log 2>&1 &
WEB=$!
stop() { kill "$WEB" "$WORKER" 2>/dev/null || true; wait "$WEB" "$WORKER" 2>/dev/null || true; }
trap stop EXIT
trap 'exit 130' INT TERM
echo "worker + beat running (pid $WORKER, log var/log/worker.log); web server log var/log/web.log"
URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 120); do
  kill -0 "$WEB" 2>/dev/null || { echo "the web server stopped; see var/log/web.log" >&2; exit 1; }
  $PY -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$URL/login/" 2>/dev/null && break
  sleep 1
done
cat <<USERS

custflow demo ready: $URL
Demo users (password demo-pass-2026):
  collector.sz    collector (采集人), 深圳 GD-SZ
  officer.sz      customer-information officer (客户信息管理岗), 深圳 GD-SZ
  reviewer.sz     reviewer (审核岗), 深圳 GD-SZ; also reviewer.gz 广州, reviewer.gd 广东, reviewer.hz 杭州
  owner.ho        process owner (流程管理员), 总公司 HO
  compliance.ho   compliance (合规), 总公司 HO
  handler.sz      complaint handler (投诉处理岗), 深圳 GD-SZ; also handler2.sz, handler.gz, handler.hz, handler.gd, handler.zj
  cs.ho           customer service (客服管理部), 总公司 HO
  admin           superuser, 总公司 HO
Press Ctrl+C to stop.
USERS
wait "$WEB"
