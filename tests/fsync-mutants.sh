#!/usr/bin/env bash
# Do the durability tests see a missing fsync of a direct write? Copies the built tree
# (run `npm run build` first) to a temp dir with ONE line of the compiled server changed,
# runs the given test files there, and prints their result; the copy is then removed.
# docs/DURABILITY.md shows what each test did against each copy.
#
#   bash tests/fsync-mutants.sh MUTANT FRAGMENT...   (FRAGMENT: as for dist/node/tests/run.js)
#
# MUTANT:
#   primary    the first volume of a direct write skips the fsync of its value file
#              (src/volume/receive.ts; its body is volume/direct-write.ts's Feed)
#   secondary  the other replicas' volumes skip theirs (a PUT whose md5 came as a trailer)
#   index      the master's index commits a direct write without syncing it
#              (src/master/index/level.ts commit: a record with direct terms)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
mutant="${1:?usage: $0 primary|secondary|index FRAGMENT...}"
shift
case "$mutant" in
  primary | secondary)
    file=src/volume/receive.js
    from='await counters.timed("file", () => fsyncFd(fd));'
    if [ "$mutant" = primary ]; then keep='body.constructor.name !== "Feed"'; else keep='body.constructor.name === "Feed"'; fi
    to="if (!given || $keep) await counters.timed(\"file\", () => fsyncFd(fd));"
    ;;
  index)
    file=src/master/index/level.js
    from='const ok = await this.cas(key, current.version, next.version, true, (b) => this.forgive(this.put(b, key, next).del(key, { sublevel: this.pending })'
    to='const ok = await this.cas(key, current.version, next.version, !current.direct, (b) => this.forgive(this.put(b, key, next).del(key, { sublevel: this.pending })'
    ;;
  *) echo "unknown mutant $mutant (primary, secondary, index)" >&2; exit 2 ;;
esac
copy="$(mktemp -d "${TMPDIR:-/tmp}/kvdb-mutant-$mutant.XXXXXX")"
trap 'rm -rf "$copy"' EXIT
cp "$repo/package.json" "$copy/"
mkdir -p "$copy/dist"
cp -r "$repo/dist/node" "$copy/dist/"
ln -s "$repo/node_modules" "$copy/node_modules"
# The tests find LazyFS's script beside the repository; the copy is elsewhere.
export LAZYFS_SH="${LAZYFS_SH:-$repo/../shared/tools/lazyfs/lazyfs.sh}"
target="$copy/dist/node/$file"
count="$(grep -cF -- "$from" "$target" || true)"
[ "$count" = 1 ] || { echo "expected the line once in $file, found it $count times: rebuild, or update this script" >&2; exit 2; }
FROM="$from" TO="$to" perl -0pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/' "$target"
grep -qF -- "$to" "$target"
echo "mutant $mutant: $file now says: $to"
cd "$copy"
node dist/node/tests/run.js "$@"
