#!/bin/bash
# Where a thrash cycle's CPU goes, by process: 3 volumes and a master as separate
# processes (3 replicas), `kvdb bench --workload thrash` (16 clients, 1 KiB) for SECONDS
# after a 3 s warm-up, then the time each process's threads ran and waited for a core
# (the scheduler's counts, /proc/PID/task/*/schedstat: threads alive at both ends; a
# Node server's never end), over the measured run, in ms per cycle.
#
#   bash bench/thrash-cpu.sh [SECONDS] [KVDB COMMAND]
#   e.g. bash bench/thrash-cpu.sh 10 'node --max-semi-space-size=1 dist/node/mod.js'
#
# Listens on 127.0.0.1:3500-3502 (volumes) and 3510 (master).
set -eu
SECS=${1:-10}
KVDB=${2:-node --max-semi-space-size=1 dist/node/mod.js}
WORK=$(mktemp -d)
declare -a PIDS NAMES
for i in 0 1 2; do
  $KVDB volume "$WORK/v$i" --port 350$i --host 127.0.0.1 > "$WORK/v$i.log" 2>&1 &
  PIDS+=($!); NAMES+=("volume $i")
done
trap 'kill ${PIDS[*]} 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
for i in 0 1 2; do
  for _ in $(seq 300); do grep -q '^kvdb volume url' "$WORK/v$i.log" && break; sleep 0.1; done
done
$KVDB master --volumes 127.0.0.1:3500,127.0.0.1:3501,127.0.0.1:3502 --db "$WORK/index" --port 3510 --host 127.0.0.1 --replicas 3 > "$WORK/m.log" 2>&1 &
PIDS+=($!); NAMES+=("master")
for _ in $(seq 300); do grep -q '^kvdb master url' "$WORK/m.log" && break; sleep 0.1; done

# Per process: ns its threads ran, ns they waited for a core.
snap() { for p in "${PIDS[@]}"; do cat /proc/$p/task/*/schedstat | awk '{r += $1; w += $2} END {printf "%.0f %.0f\n", r, w}'; done; }
$KVDB bench --master http://127.0.0.1:3510 --workload thrash --seconds 3 > /dev/null
before=$(snap)
$KVDB bench --master http://127.0.0.1:3510 --workload thrash --seconds "$SECS" --json > "$WORK/out.json"
after=$(snap)
cycles=$(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results[0]; const c = r.steps.find((s) => s.step === "cycle"); console.log(c.ops, c.opsPerSec.toFixed(0))' "$WORK/out.json")
read -r ops rate <<< "$cycles"
echo "thrash: $ops cycles in ${SECS} s ($rate/s)"
paste <(echo "$before") <(echo "$after") | awk -v n="$ops" -v names="$(IFS=,; echo "${NAMES[*]}")" '
  BEGIN { split(names, name, ",") }
  { printf "%-9s ran %.2f ms  waited for a core %.2f ms  per cycle\n", name[NR], ($3 - $1) / 1e6 / n, ($4 - $2) / 1e6 / n }'
