#!/usr/bin/env bash
# Compressed messages between the echo example (with --deflate) and two independent
# clients: Python's `websockets` and headless Chromium (which always offers
# permessage-deflate). Installs what it needs: Debian's chromium package, and a Python
# virtualenv with websockets under $WSIO_CACHE (default ~/.cache/wsio).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${WSIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wsio}
venv=$cache/interop-venv

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

if ! "$venv/bin/python" -c 'import websockets' 2>/dev/null; then
  echo "interop.sh: installing Python websockets into $venv"
  python3 -m venv "$venv" || die "cannot create a Python 3 virtualenv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'websockets>=13' ||
    die "cannot pip install websockets (is PyPI reachable?)"
fi

cd "$root"
cargo build --release --quiet --example echo
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
target/release/examples/echo --addr "127.0.0.1:$port" --deflate >/dev/null 2>&1 &
echo_pid=$!
trap 'kill $echo_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

timeout 300 "$venv/bin/python" scripts/interop.py "ws://127.0.0.1:$port/" --chromium "$chromium"
