#!/usr/bin/env bash
# Debian's headless Chromium, which the workbench's browser tests drive (Playwright cannot download
# its own browser here). Installed with apt-get when missing and run as root; otherwise the browser
# tests are skipped, and this says so.
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; then
    exit 0
  fi
fi
echo "note: /usr/bin/chromium is missing and could not be installed (as root: apt-get install chromium);" \
     "the workbench's browser tests will be skipped" >&2
