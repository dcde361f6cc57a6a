#!/usr/bin/env bash
# Installs the npm front-end packages (if needed) and copies the files the web UI serves
# into backend/web/static/web/vendor/ (not committed: see .gitignore).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules/htmx.org ] || [ ! -d node_modules/echarts ] || [ ! -d node_modules/bpmn-js ] || [ ! -d node_modules/bpmnlint ] \
  || [ ! -d node_modules/bpmn-js-token-simulation ] || [ ! -x node_modules/.bin/esbuild ]; then
  npm install --no-audit --no-fund
fi
VENDOR=backend/web/static/web/vendor
mkdir -p "$VENDOR"
cp node_modules/htmx.org/dist/htmx.min.js "$VENDOR/htmx.min.js"
cp node_modules/echarts/dist/echarts.min.js "$VENDOR/echarts.min.js"
# bpmn-js: the modeler (process owners) and the viewer (instance view), with their styles and font.
mkdir -p "$VENDOR/bpmn-js"
cp node_modules/bpmn-js/dist/bpmn-modeler.production.min.js "$VENDOR/bpmn-js/bpmn-modeler.production.min.js"
cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js "$VENDOR/bpmn-js/bpmn-navigated-viewer.production.min.js"
cp node_modules/bpmn-js/dist/assets/diagram-js.css node_modules/bpmn-js/dist/assets/bpmn-js.css "$VENDOR/bpmn-js/"
cp -r node_modules/bpmn-js/dist/assets/bpmn-font "$VENDOR/bpmn-js/"
# Token simulation has no prebuilt bundle: esbuild (from npm) bundles its modeler module as a global.
node_modules/.bin/esbuild backend/web/frontend/token_simulation.js --bundle --format=iife --minify \
  --log-level=warning --outfile="$VENDOR/bpmn-js/token-simulation.js"
cp node_modules/bpmn-js-token-simulation/assets/css/bpmn-js-token-simulation.css "$VENDOR/bpmn-js/"
echo "static vendor files ready in $VENDOR"
