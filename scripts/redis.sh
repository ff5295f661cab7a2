#!/usr/bin/env bash
# The hub across processes on a real Redis: installs Debian's redis-server if it is missing,
# then runs wsio-hub's Redis tests (tests/redis.rs, ignored by a plain `cargo test`), which
# start redis-server themselves on free loopback ports: room messages, broadcasts, native
# messages, disconnect/join/leave and ask across two and three hubs, a Redis restarted
# mid-test, a Redis that never answers. Then the chat example across two processes sharing
# one Redis in headless Chromium (scripts/browser_redis.py: pages on both processes, a Redis
# restarted mid-test), with the peers of scripts/peers.sh (Debian's chromium, a Python
# virtualenv with websocket-client). Fails loudly if it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
script_name=$(basename "$0")

die() {
  echo "$script_name: $*" >&2
  exit 1
}

if ! command -v redis-server >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "$script_name: installing Debian's redis-server"
  { $sudo apt-get install -y -q redis-server >/dev/null 2>&1 ||
    { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q redis-server >/dev/null 2>&1; }; } ||
    die "cannot install redis-server with apt-get"
fi
WSIO_REDIS_SERVER=$(command -v redis-server) || die "redis-server installed but not on PATH"
export WSIO_REDIS_SERVER
echo "$script_name: $("$WSIO_REDIS_SERVER" --version)"

cargo test -p wsio-hub --test redis -- --ignored --test-threads=1 ||
  die "the hub's Redis tests failed"
echo "$script_name: the hub across processes passed on a real Redis"

# The chat in Chromium, two processes on one Redis.
. "$root/scripts/peers.sh"
cd "$root"
cargo build --quiet -p wsio-hub --example chat || die "cannot build the chat example"
chat_bin=${CARGO_TARGET_DIR:-target}/debug/examples/chat
[ -x "$chat_bin" ] || die "no $chat_bin after the build"
timeout 300 "$venv/bin/python" scripts/browser_redis.py "$chat_bin" --chromium "$chromium" \
  --redis-server "$WSIO_REDIS_SERVER" ||
  die "the chat across two processes on one Redis failed in Chromium"
echo "$script_name: the chat across two processes on one Redis passed in Chromium"
