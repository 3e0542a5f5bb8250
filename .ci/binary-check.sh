#!/usr/bin/env bash
# Builds the standalone executable (npm run compile) and proves it works on its own:
# it is copied to an empty dir and run while the repo's node_modules is unreachable,
# so a classic-level addon that was not embedded (docs/RUNTIMES.md, trap 1) fails here.
# Prints one line per check and ends with "N passed, N failed"; exits 1 on any failure.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
PASSED=0
FAILED=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kvdb-binary-XXXXXX")
SERVER_PID=
HIDDEN=   # set while node_modules is renamed away (fallback mode only)

pass() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1${2:+ ($2)}"; }
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected $2, got $3"; fi
}
summary() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
  exit
}
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID" 2>/dev/null; fi
  if [ -n "$HIDDEN" ]; then mv "$HIDDEN" "$REPO/node_modules" && echo "     restored node_modules"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== build"
if npm run --silent compile; then pass "npm run compile"; else fail "npm run compile"; summary; fi
cp dist/kvdb "$WORK/kvdb" && cd "$WORK" || { fail "copy dist/kvdb to $WORK"; summary; }
echo "     $(du -h kvdb | cut -f1) executable in $WORK"

# --- make node_modules unreachable for every run of the binary -------------------------
# Best: a private mount namespace per run, with an empty dir mounted over node_modules
# (nothing changes for anyone else). Otherwise: rename node_modules for the duration.
mkdir "$WORK/empty"
HIDE=(unshare --mount -- sh -c 'mount --bind "$1" "$2" && [ -z "$(ls -A "$2")" ] && shift 2 && exec "$@"' sh "$WORK/empty" "$REPO/node_modules")
if [ ! -e "$REPO/node_modules" ]; then
  HIDE=()
  echo "     no node_modules at $REPO: nothing to hide"
elif "${HIDE[@]}" true 2>/dev/null; then
  echo "     node_modules hidden by unshare --mount (an empty dir bind-mounted over $REPO/node_modules)"
else
  HIDE=()
  HIDDEN="$REPO/node_modules.hidden-by-binary-check"
  if [ -e "$HIDDEN" ]; then HIDDEN=; fail "hide node_modules" "$REPO/node_modules.hidden-by-binary-check exists: left by a killed run?"; summary; fi
  mv "$REPO/node_modules" "$HIDDEN" || { HIDDEN=; fail "hide node_modules"; summary; }
  echo "     unshare not permitted here: node_modules renamed to $HIDDEN until this script exits"
fi
kvdb() { ${HIDE[@]+"${HIDE[@]}"} ./kvdb "$@"; }

echo "== cli"
out=$(kvdb --help 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q "kvdb server" <<<"$out"; then pass "./kvdb --help"; else fail "./kvdb --help" "exit $rc: $(head -3 <<<"$out")"; fi
kvdb master --bogus >"$WORK/bogus.out" 2>"$WORK/bogus.err"
rc=$?
lines=$(wc -l <"$WORK/bogus.err")
if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -s "$WORK/bogus.out" ]; then
  pass "./kvdb master --bogus exits 2 with one line on stderr: $(cat "$WORK/bogus.err")"
else
  fail "./kvdb master --bogus" "exit $rc, $lines stderr line(s): $(head -5 "$WORK/bogus.err")"
fi

echo "== server"
# A master port with the next three (the volumes') free too; retried if one is taken meanwhile.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
start_server() {
  local port=$1
  # The S3 port beside the others (its default, 9000, may be taken on a shared machine).
  ${HIDE[@]+"${HIDE[@]}"} ./kvdb server "$WORK/data" --port "$port" --s3-port $((port + 4)) >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 200); do # 20 s
    grep -q "^kvdb master url=" "$WORK/server.log" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
started=
for _ in 1 2 3; do
  PORT=$((20000 + RANDOM % 12000)) # below Linux's ephemeral range (32768+), where outgoing connections take ports
  port_free $PORT && port_free $((PORT + 1)) && port_free $((PORT + 2)) && port_free $((PORT + 3)) || continue
  if start_server $PORT; then started=1; break; fi
  kill -KILL "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  grep -q EADDRINUSE "$WORK/server.log" || break # a real failure, not a port race
done
if [ -z "$started" ]; then
  fail "./kvdb server $WORK/data --port $PORT starts"
  echo "---- server log"
  cat "$WORK/server.log"
  summary
fi
pass "./kvdb server --port $PORT: $(grep "^kvdb master url=" "$WORK/server.log")"
URL="http://127.0.0.1:$PORT"

# status METHOD PATH [curl args...]: prints the final HTTP status (after redirects)
status() { local m=$1 p=$2; shift 2; curl -sS -L -X "$m" -o /dev/null -w '%{http_code}' "$@" "$URL$p"; }

SMALL='hello from the kvdb binary'
printf '%s' "$SMALL" >"$WORK/small"
check "PUT /ci/small (curl -L -X PUT -d)" 201 "$(status PUT /ci/small -d "$SMALL")"
code=$(curl -sS -L -o "$WORK/small.got" -w '%{http_code}' "$URL/ci/small")
if [ "$code" = 200 ] && cmp -s "$WORK/small" "$WORK/small.got"; then pass "GET /ci/small (curl -L) returns the same bytes"; else fail "GET /ci/small" "status $code, bytes differ"; fi
check "PUT /ci/small again is a conflict" 409 "$(status PUT /ci/small -d again)"

head -c $((5 * 1024 * 1024 + 123)) /dev/urandom >"$WORK/big"
want=$(md5sum <"$WORK/big" | cut -d' ' -f1)
check "PUT /ci/big (curl -L -T, 5 MiB)" 201 "$(curl -sS -L -T "$WORK/big" -o /dev/null -w '%{http_code}' "$URL/ci/big")"
header=$(curl -sS -o /dev/null -D - "$URL/ci/big" | tr -d '\r' | sed -n 's/^content-md5: *//Ip')
check "GET /ci/big: Content-Md5 header is the file's md5" "$want" "$header"
code=$(curl -sS -L -o "$WORK/big.got" -w '%{http_code}' "$URL/ci/big")
check "GET /ci/big (curl -L): status and md5 of the body" "200 $want" "$code $(md5sum <"$WORK/big.got" | cut -d' ' -f1)"

check "DELETE /ci/big" 204 "$(status DELETE /ci/big)"
check "GET /ci/big after DELETE" 404 "$(status GET /ci/big)"
check "DELETE /ci/small" 204 "$(status DELETE /ci/small)"

kill -TERM "$SERVER_PID"
for _ in $(seq 150); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done # 15 s
if kill -0 "$SERVER_PID" 2>/dev/null; then
  fail "SIGTERM stops the server" "still running after 15 s"
else
  wait "$SERVER_PID"
  check "SIGTERM stops the server with exit code 0" 0 $?
fi
SERVER_PID=
if [ "$FAILED" -ne 0 ]; then echo "---- server log"; cat "$WORK/server.log"; fi
summary
