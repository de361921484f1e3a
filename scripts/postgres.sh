#!/usr/bin/env bash
# Make sure the local PostgreSQL (127.0.0.1:5432, trust auth, database `test`) is up.
set -euo pipefail
if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
  exit 0
fi
if [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
for _ in $(seq 1 30); do
  if pg_isready -q -h 127.0.0.1 -p 5432; then exit 0; fi
  sleep 1
done
echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2
exit 1
