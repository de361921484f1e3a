#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install Scheldt with its pinned dependencies.
# Re-running is quick: nothing is reinstalled unless pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.scheldt-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
  echo "$want" > "$stamp"
fi
# The workbench's front-end libraries (npm registry, exact versions in web/package-lock.json),
# copied into src/scheldt/web/static/vendor/; redone only when the lock file or web/install.sh changed.
web_stamp=.venv/.scheldt-web-assets
web_want=$(cat web/package-lock.json web/install.sh | sha256sum | cut -d' ' -f1)
if [ ! -f "$web_stamp" ] || [ "$(cat "$web_stamp")" != "$web_want" ] || [ ! -d src/scheldt/web/static/vendor ]; then
  if command -v npm >/dev/null; then
    bash web/install.sh
    echo "$web_want" > "$web_stamp"
  else
    echo "setup: npm not found: the web workbench's libraries (web/package.json) are not installed" >&2
  fi
fi
