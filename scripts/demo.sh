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
# The node is run by the Belgian customs agency: what it ingests is recorded as supplied by it.
export SCHELDT_LOCAL_ORGANISATION=${SCHELDT_LOCAL_ORGANISATION:-be-customs}
rm -rf "$SCHELDT_DATA_DIR"
# Each step is echoed as it can be pasted (quoted where needed), with the settings it ran under.
quoted() { local a out=""; for a in "$@"; do
  if [[ $a =~ ^[A-Za-z0-9_./:%=+,@-]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi; done
  printf '%s' "$out"; }
step() { printf '\n$ .venv/bin/scheldt%s\n' "$(quoted "$@")"; .venv/bin/scheldt "$@"; }
printf 'Steps below run as: export SCHELDT_DATA_DIR=%s SCHELDT_NOW=%s SCHELDT_LOCAL_ORGANISATION=%s\n' \
  "$SCHELDT_DATA_DIR" "$SCHELDT_NOW" "$SCHELDT_LOCAL_ORGANISATION"
# The node's organisations first: what is loaded below is recorded as supplied by be-customs.
step org create be-customs --name "Belgian Customs (demo)" --kind agency
step org create us-cbp --name "US Customs and Border Protection (demo)" --kind agency
step org create carrier-a --name "Simulated Carrier A" --kind carrier --carrier-code SIMA --client-of be-customs
step org create terminal-1 --name "Simulated Terminal 1" --kind terminal --terminal-code SIMT1 --client-of be-customs
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
# Activated now, on the real clock (the pinned 2021 clock is for the declarations above); replay
# scores each day as it arrives, up to the evening of the discharge day: the boxes not yet picked
# up are still in port, to be planned in the workbench.
(unset SCHELDT_NOW; step profile activate --builtin antwerp-narcotics --reason "demo" --no-score)
step replay "$SIM" --until 2026-01-02
step trips queue --limit 5

# The service: demo users (password below, for the demo only) and scanners, so
# `scheldt serve` can be tried on this store at once (README "The service").
DEMO_PASSWORD=${SCHELDT_DEMO_PASSWORD:-scheldt-demo-password}
user() { printf '%s\n' "$DEMO_PASSWORD" | .venv/bin/scheldt user create "$@" --password-stdin; }
user officer --org be-customs --role targeting_officer --name "Targeting officer"
user operator --org be-customs --role scanner_operator --name "Scanner operator"
user searcher --org be-customs --role search_team --name "Search team"
user analyst --org be-customs --role analyst --name "Analyst"
user admin --org be-customs --role administrator --name "Administrator"
user liaison --org us-cbp --role liaison_officer --name "US liaison officer"
user carrier --org carrier-a --role carrier_security --name "Carrier A security"
user terminal --org terminal-1 --role carrier_security --name "Terminal 1 security"
step scanner add SC-1 --org be-customs --capacity 6 --name "Fixed scanner 1" --site Deurganckdok
step scanner add SC-2 --org be-customs --capacity 4 --name "Mobile scanner 2" --site Churchill
printf '\nStart the service on this store:  SCHELDT_DATA_DIR=%s SCHELDT_LOCAL_ORGANISATION=%s .venv/bin/scheldt serve\n' "$SCHELDT_DATA_DIR" "$SCHELDT_LOCAL_ORGANISATION"
printf 'then open http://127.0.0.1:8000/ and sign in as officer (password %s); API docs at /docs.\n' "$DEMO_PASSWORD"
