#!/usr/bin/env bash
# The hub's broadcast fan-out benchmark against Node's `ws` and Python's `websockets`, side
# by side in one run (wsio-hub/benches/broadcast.rs): 1,000 receivers and 1 sender per
# server and message size, messages per second and the time until the last receiver has
# each message, resident memory per idle connection, and the ratios. Installs the peers it
# needs (scripts/peers.sh) under $WSIO_CACHE (default ~/.cache/wsio). Extra arguments go to
# the bench (e.g. --quick, --window N, --receivers N). With --redis, the hub across two
# processes on one Redis too (a redis-server of its own, on a free loopback port), against
# the hub in one process, and Redis's bytes per message; Debian's redis-server is installed
# if it is missing, as scripts/redis.sh does.
#
# Measured, never asserted: CI does not run it. It needs both cores to itself for the
# numbers to mean anything.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/peers.sh"

# 1,000 receivers + 1 sender in the driver, as many in each server (which inherit it).
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" ||
  die "cannot raise the open file limit (hard limit $(ulimit -Hn))"
[ "$(ulimit -n)" -ge 1300 ] || die "the open file limit is $(ulimit -n); the run needs 1300"

node=$(command -v node) || die "node is not on PATH"

limit=900
for arg in "$@"; do
  if [ "$arg" = --redis ]; then
    limit=1200
    if [ -z "${WSIO_REDIS_SERVER:-}" ] && ! command -v redis-server >/dev/null; then
      sudo=""
      [ "$(id -u)" = 0 ] || sudo="sudo"
      echo "$script_name: installing Debian's redis-server" >&2
      { $sudo apt-get install -y -q redis-server >/dev/null 2>&1 ||
        { $sudo apt-get update -q >/dev/null 2>&1 &&
          $sudo apt-get install -y -q redis-server >/dev/null 2>&1; }; } ||
        die "cannot install redis-server with apt-get"
    fi
    WSIO_REDIS_SERVER=${WSIO_REDIS_SERVER:-$(command -v redis-server)} ||
      die "redis-server installed but not on PATH"
    export WSIO_REDIS_SERVER
    echo "$script_name: $("$WSIO_REDIS_SERVER" --version)" >&2
  fi
done
cd "$root"
NODE_PATH="$node_dir/node_modules" timeout "$limit" \
  cargo bench -p wsio-hub --bench broadcast -- \
  --node "$node" --node-path "$node_dir/node_modules" --python "$venv/bin/python" "$@" ||
  die "the broadcast benchmark failed"
