#!/usr/bin/env bash
# Tools for the durability tests: strace (tests/strace-fsync.test.ts) and LazyFS
# (tests/power-loss.test.ts), from ../shared/tools/lazyfs beside the repository.
# Usage: bash .ci/durability-tools.sh OUT_DIR
# Installs strace if missing (apt-get), builds LazyFS into OUT_DIR when FUSE is there,
# and prints the LazyFS binary's path on stdout (nothing if it could not be built);
# progress and reasons go to stderr. Never fails: a test without its tool skips, saying why.
set -uo pipefail
out=$1
lazyfs_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared/tools/lazyfs"
say() { echo "::: durability tools: $*" >&2; }

if ! command -v strace >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing strace"
    apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends strace >/dev/null 2>&1 ||
      say "strace could not be installed"
  else
    say "no strace, and no root apt-get to install it"
  fi
fi

if [ ! -e /dev/fuse ]; then
  say "no /dev/fuse: LazyFS not built"
elif [ ! -f "$lazyfs_dir/build.sh" ]; then
  say "no $lazyfs_dir/build.sh: LazyFS not built"
elif [ "$(id -u)" != 0 ]; then
  say "not root (build.sh installs packages, mounting needs root): LazyFS not built"
else
  say "building LazyFS into $out"
  if bin=$(bash "$lazyfs_dir/build.sh" "$out" 2>"$out.log" | tail -n 1) && [ -x "$bin" ]; then
    echo "$bin"
  else
    say "LazyFS build failed:"
    tail -n 5 "$out.log" >&2
  fi
fi
exit 0
