#!/bin/bash
# A/B of small requests on `kvdb server` builds, taking turns so a shared machine's load
# falls on each alike: per round, each build gets a wrk run of redirects (GET of a stored
# key: 302) and one of misses (404). Prints requests/s and the server's CPU microseconds
# per request (utime+stime from /proc over the requests wrk completed): the CPU figure
# moves less than requests/s when other work competes for the cores.
#
#   bash bench/ab-small.sh ROUNDS SECONDS NAME='COMMAND' [NAME='COMMAND'…]
#   e.g. bash bench/ab-small.sh 7 3 main='node ../base/dist/node/mod.js' new='node dist/node/mod.js'
#
# COMMAND runs kvdb (it gets `server DIR --port P --s3-port P+9 --host 127.0.0.1`); build
# i listens on 3900+50i (and its volumes on the next three ports). Needs wrk and curl.
set -u
ROUNDS=$1; SECS=$2; shift 2
WORK=$(mktemp -d)
declare -a NAMES PORTS PIDS
i=0
for spec in "$@"; do
  NAMES[$i]=${spec%%=*}; port=$((3900 + 50 * i)); PORTS[$i]=$port
  ${spec#*=} server "$WORK/d$i" --port $port --s3-port $((port + 9)) --host 127.0.0.1 > "$WORK/d$i.log" 2>&1 &
  PIDS[$i]=$!
  i=$((i + 1))
done
trap 'kill ${PIDS[*]} 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
for j in $(seq 0 $((i - 1))); do
  for _ in $(seq 300); do grep -q '^kvdb master url' "$WORK/d$j.log" && break; sleep 0.1; done
  code=$(curl -s -X PUT --data-binary hello "http://127.0.0.1:${PORTS[$j]}/ab/there" -o /dev/null -w '%{http_code}')
  [ "$code" = 201 ] || { echo "${NAMES[$j]}: PUT answered $code"; cat "$WORK/d$j.log"; exit 1; }
done
for r in $(seq "$ROUNDS"); do
  for j in $(seq 0 $((i - 1))); do
    line="round $r ${NAMES[$j]}"
    for path in there missing; do
      c0=$(awk '{print $14 + $15}' "/proc/${PIDS[$j]}/stat")
      out=$(wrk -t1 -c16 -d"${SECS}s" "http://127.0.0.1:${PORTS[$j]}/ab/$path")
      c1=$(awk '{print $14 + $15}' "/proc/${PIDS[$j]}/stat")
      n=$(echo "$out" | awk '/requests in/{print $1}')
      rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
      line="$line | $path ${rps}/s $(((c1 - c0) * 1000000 / $(getconf CLK_TCK) / n)) us/req"
    done
    echo "$line"
  done
done
