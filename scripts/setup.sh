#!/usr/bin/env bash
# Installs what custflow runs on a fresh Debian machine with Python 3.11: system packages,
# a virtualenv with the Python dependencies, and the npm front-end bundles.
# `scripts/setup.sh --test` also installs what only the tests need: Chromium (browser tests),
# poppler-utils (PDF rendering tests) and the Python test tools. The demo installs no browser.
set -euo pipefail
cd "$(dirname "$0")/.."
FOR_TESTS=0
[ "${1:-}" = "--test" ] && FOR_TESTS=1

APT_PACKAGES=(libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk gettext)
[ "$FOR_TESTS" = 1 ] && APT_PACKAGES+=(chromium poppler-utils)
# npm builds the front-end bundles; a machine without Node.js gets Debian's.
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)
# Debian's own Python needs python3-venv for `python3 -m venv`.
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
"$PYTHON" -c "import ensurepip" >/dev/null 2>&1 || APT_PACKAGES+=(python3-venv)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing system packages: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" \
    || { $SUDO apt-get update -q && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; }
fi

# The virtualenv lives outside the checkout (.venv links to it), so tools that scan the
# source tree never read third-party code as ours. A checkout that already has a real .venv
# directory keeps it.
if [ ! -e .venv ]; then
  VENV_DIR=${CUSTFLOW_VENV_DIR:-$HOME/.cache/custflow/venv-$(pwd | sha1sum | cut -c1-12)}
  if mkdir -p "$(dirname "$VENV_DIR")" 2>/dev/null && { [ -x "$VENV_DIR/bin/python" ] || "$PYTHON" -m venv "$VENV_DIR"; }; then
    ln -s "$VENV_DIR" .venv
  fi
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$FOR_TESTS" = 1 ]; then .venv/bin/python -m pip install -q ".[test]"; else .venv/bin/python -m pip install -q .; fi

if [ -x scripts/build_static.sh ]; then scripts/build_static.sh; fi
if command -v msgfmt >/dev/null 2>&1 && [ -d locale ]; then
  .venv/bin/python manage.py compilemessages -i .venv -i node_modules -v 0 >/dev/null
fi
mkdir -p var/broker/out var/broker/processed var/broker/control
.venv/bin/python manage.py collectstatic --noinput -v 0
# Demo signing certificates (a local CA; org units get theirs once the database is seeded).
.venv/bin/python manage.py demo_certificates -v 0 >/dev/null
