#!/usr/bin/env bash
# Echo servers under many connections, side by side in one run (issue 15): wsio's event-loop
# echo (examples/echo_poll.rs), wsio's thread-per-connection echo (examples/echo.rs), and
# fastwebsockets' (hyper on tokio) and tungstenite's (a thread per connection) from peers/.
# For each count of connections, each server in turn, back to back, on a fresh process on a
# free loopback port: the same client, peers/src/bin/load.rs, opens the connections, echoes
# one message on each, then keeps one 128-byte binary message in flight on every connection
# (1 s warm-up, 5 s measured). It waits first for the machine to be quiet (up to 2 minutes),
# and measures again (up to 4 times in all) when other processes took over a quarter of a
# core in the window anyway. With ROUNDS=N the servers take turns N times per count and the
# table shows medians.
# Prints each measurement, then a table (scripts/bench_conns.py): per server and count,
# echoed messages per second; the server's CPU time per message; its resident memory growth
# per connection (from before connecting): resident (VmRSS) with all open and idle after one
# echo ("up") and at the end of the busy window ("busy"), and the peak (VmHWM) by then; the
# CPU (cores) the server, the client and other processes used in the window; the ratios of
# echo_poll to each other server. wsio's examples are built from the work tree, as it is
# (the first line says which commit, and whether src/ or examples/ differ from it).
# Measures; asserts nothing.
#
#   scripts/bench_conns.sh [COUNT...]        (default: 200 2000 5000)
#   ROUNDS=N                                turns per count (default 1)
#   LOAD_THREADS=N                          client threads (default 1)
#   SERVERS="echo fastwebsockets ..."       a subset, in that order (default all four)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
die() {
  echo "bench_conns.sh: $*" >&2
  exit 1
}
[ $# -gt 0 ] || set -- 200 2000 5000
read -r -a servers <<<"${SERVERS:-echo_poll echo fastwebsockets tungstenite}"

for example in echo_poll echo; do
  [[ " ${servers[*]} " != *" $example "* ]] || cargo build --release --quiet --example "$example" ||
    die "cannot build examples/$example.rs"
done
cargo build --release --quiet --manifest-path peers/Cargo.toml ||
  die "cannot build peers/ (is crates.io reachable?)"

command_for() { # NAME PORT
  case $1 in
  echo_poll) echo "target/release/examples/echo_poll --addr 127.0.0.1:$2" ;;
  echo) echo "target/release/examples/echo --addr 127.0.0.1:$2" ;;
  fastwebsockets) echo "peers/target/release/fastwebsockets_echo 127.0.0.1:$2" ;;
  tungstenite) echo "peers/target/release/tungstenite_echo 127.0.0.1:$2" ;;
  *) die "unknown server $1 (known: echo_poll echo fastwebsockets tungstenite)" ;;
  esac
}
for name in "${servers[@]}"; do command_for "$name" 0 >/dev/null; done
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

work=$(mktemp -d "${TMPDIR:-/tmp}/bench_conns.XXXXXX")
server=""
trap '[ -z "$server" ] || kill -9 "$server" 2>/dev/null; rm -rf "$work"' EXIT
dirty=$(git diff --quiet HEAD -- src examples Cargo.toml || echo " + uncommitted changes")
echo "$(date -u +%FT%TZ) wsio $(git rev-parse --short HEAD)$dirty; $(nproc) cores, $(uname -r);" \
  "load client threads: ${LOAD_THREADS:-1}"

# One measurement: starts server $1, puts $2 connections on it, prints the load's line.
measure() {
  local port line
  port=$(free_port)
  # shellcheck disable=SC2046 # the command is words on purpose
  $(command_for "$1" "$port") >/dev/null 2>"$work/server.err" &
  server=$!
  if ! line=$(peers/target/release/load --addr "127.0.0.1:$port" --conns "$2" --pid "$server" \
    --threads "${LOAD_THREADS:-1}" --quiet 120 2>"$work/load.err"); then
    cat "$work/load.err" >&2
    tail -5 "$work/server.err" >&2
    die "the load against $1 at $2 connections failed"
  fi
  kill -9 "$server"
  wait "$server" 2>/dev/null || true
  server=""
  echo "server=$1 $line"
}
# The CPU other processes took in a measurement's window.
others() {
  awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         print v["machine_cpu"] - v["server_cpu"] - v["client_cpu"] }' <<<"$1"
}

for n in "$@"; do
  for round in $(seq 1 "${ROUNDS:-1}"); do
    for name in "${servers[@]}"; do
      for attempt in 1 2 3 4; do
        measure "$name" "$n" >"$work/line"
        line="round=$round $(<"$work/line")"
        echo "$line"
        awk -v o="$(others "$line")" 'BEGIN { exit !(o < 0.25) }' && break
        [ "$attempt" = 4 ] || echo "  (other processes took $(others "$line") cores: measuring again)"
      done
      echo "$line" >>"$work/results"
    done
  done
done
python3 scripts/bench_conns.py <"$work/results"
