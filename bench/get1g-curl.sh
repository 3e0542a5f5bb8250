#!/bin/bash
# A 1 GiB GET through the redirect, as a user's curl does it: `kvdb server` started with
# COMMAND (for A/B, one per build, taking turns), one 1 GiB PUT, then ROUNDS GETs with
# `curl -L -o /dev/null`; prints each GET's MB/s (10^6 bytes). Loopback, port 3600.
#
#   bash bench/get1g-curl.sh ROUNDS NAME='COMMAND' [NAME='COMMAND'…]
#   e.g. bash bench/get1g-curl.sh 3 new='node_modules/.bin/deno run -A mod.ts'
set -eu
ROUNDS=$1; shift
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
head -c 1073741824 /dev/urandom > "$WORK/value"
for r in $(seq "$ROUNDS"); do
  for spec in "$@"; do
    name=${spec%%=*}
    ${spec#*=} server "$WORK/data" --port 3600 --s3-port 3609 --host 127.0.0.1 > "$WORK/log" 2>&1 &
    pid=$!
    for _ in $(seq 300); do grep -q '^kvdb master url' "$WORK/log" && break; sleep 0.1; done
    curl -sf -L -T "$WORK/value" http://127.0.0.1:3600/get1g -o /dev/null
    speed=$(curl -sf -L http://127.0.0.1:3600/get1g -o /dev/null -w '%{speed_download}')
    echo "$name round $r: $(awk -v s="$speed" 'BEGIN { printf "%.0f", s / 1e6 }') MB/s"
    kill $pid; wait $pid 2>/dev/null || true
    rm -rf "$WORK/data"
  done
done
