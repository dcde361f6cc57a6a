#!/usr/bin/env bash
# Installs the npm front-end packages (if needed) and copies the files the web UI serves
# into backend/web/static/web/vendor/ (not committed: see .gitignore).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules/htmx.org ] || [ ! -d node_modules/echarts ]; then
  npm install --no-audit --no-fund
fi
VENDOR=backend/web/static/web/vendor
mkdir -p "$VENDOR"
cp node_modules/htmx.org/dist/htmx.min.js "$VENDOR/htmx.min.js"
cp node_modules/echarts/dist/echarts.min.js "$VENDOR/echarts.min.js"
echo "static vendor files ready in $VENDOR"
