#!/usr/bin/env bash
# Resident memory per connection of echo servers, measured from outside in one run
# (scripts/memory.py): wsio's echo example (on wsio::Server), tungstenite's and
# fastwebsockets' echo servers as their users write them, and a plain TCP echo with a
# thread per connection (the floor). 1,000 idle connections, then 200 busy ones.
# Builds the peers in peers/ (tungstenite, fastwebsockets on hyper and tokio); installs the
# Python it needs as scripts/peers.sh does. Prints numbers; asserts nothing.
#
#   scripts/memory.sh [IDLE_CONNECTIONS]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/peers.sh"
idle=${1:-1000}

cd "$root"
cargo build --release --quiet --example echo
cargo build --release --quiet --manifest-path peers/Cargo.toml ||
  die "cannot build the peer servers in peers/ (is crates.io reachable?)"
peers=peers/target/release
ports=()
for _ in 1 2 3 4; do ports+=("$(free_port)"); done
"$venv/bin/python" scripts/memory.py --idle "$idle" --seconds 5 \
  "wsio=ws:${ports[0]}:target/release/examples/echo --addr 127.0.0.1:${ports[0]}" \
  "tungstenite=ws:${ports[1]}:$peers/tungstenite_echo 127.0.0.1:${ports[1]}" \
  "fastwebsockets=ws:${ports[2]}:$peers/fastwebsockets_echo 127.0.0.1:${ports[2]}" \
  "tcp-echo=tcp:${ports[3]}:$peers/tcp_echo 127.0.0.1:${ports[3]}"
