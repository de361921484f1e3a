#!/usr/bin/env bash
# Set up, make sure PostgreSQL runs, and run the whole test suite (SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/postgres.sh
bash scripts/chromium.sh
# Two test processes (pytest-xdist), one per core, each module's tests in one of them (its
# module-scoped stores are built once); each process's libraries get one thread (LightGBM,
# BLAS), so the two never ask for more cores than the machine has. SCHELDT_TEST_PROCESSES=0
# runs everything in this one process.
workers=${SCHELDT_TEST_PROCESSES:-2}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} SCHELDT_THREADS=${SCHELDT_THREADS:-1}
if [ "$workers" = 0 ]; then
  .venv/bin/python -m pytest "$@"
else
  .venv/bin/python -m pytest -n "$workers" --dist loadscope "$@"
fi
