#!/usr/bin/env bash
# Set up, then run Scheldt's main job on the bundled real excerpt with the embedded SQLite store:
# ingest history with outcomes, ingest new declarations, train, score, print the top of the
# inspection list with reasons, print the evaluation. Starts from an empty store each time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SCHELDT_DATA_DIR=${SCHELDT_DATA_DIR:-var/demo}
# Score as of the morning after the last new declaration (the data is from 2021).
export SCHELDT_NOW=${SCHELDT_NOW:-2021-04-22T06:00:00+00:00}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
rm -rf "$SCHELDT_DATA_DIR"
step() { printf '\n$ scheldt %s\n' "$*"; .venv/bin/scheldt "$@"; }
step ingest demo/data/kcs-train-excerpt.csv                 # history: declarations with inspection outcomes
step ingest --no-outcomes demo/data/kcs-test-excerpt.csv    # new declarations, not inspected yet
step train --target fraud
step score --target fraud
step target --capacity 5% --exploration 0.05 --limit 10
step evaluate --train demo/data/kcs-train-excerpt.csv --test demo/data/kcs-test-excerpt.csv --seeds 1

# Container trips: SIMULATED traffic (not real data) for one day at Antwerp-Bruges, 2 % of its
# volume, scored with the built-in narcotics risk profile. See README "Container targeting".
SIM=$SCHELDT_DATA_DIR/simulated
step simulate --out "$SIM" --days 1 --scale 0.02 --seed 7
step profile activate --builtin antwerp-narcotics --reason "demo"
step replay "$SIM"
step trips queue --limit 5
