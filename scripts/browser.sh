#!/usr/bin/env bash
# The hub's browser side against the chat example (wsio-hub/examples/chat.rs, its page
# chat.html and the client wsio-hub/assets/wsio-hub.js):
# - scripts/browser.py drives headless Chromium over the DevTools protocol through four pages
#   in two rooms: typing messages, leaving and joining rooms, killing and restarting the
#   server to check that every page reconnects and rejoins its rooms;
# - scripts/hub_node.mjs tests the client in Node, against a scripted fake WebSocket and
#   then against the chat example.
# Installs what it needs through scripts/peers.sh (Debian's chromium package, a Python
# virtualenv with websocket-client, Node's ws, under $WSIO_CACHE, default ~/.cache/wsio).
# Fails loudly if it cannot.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/peers.sh"

cd "$root"
cargo build --quiet -p wsio-hub --example chat
chat_bin=${CARGO_TARGET_DIR:-target}/debug/examples/chat
[ -x "$chat_bin" ] || die "no $chat_bin after the build"

timeout 300 "$venv/bin/python" scripts/browser.py "$chat_bin" --chromium "$chromium" ||
  die "the chat example failed in Chromium"

# Node before 22 has no global WebSocket: the test then takes the ws package from NODE_PATH.
NODE_PATH="$node_dir/node_modules" timeout 120 node scripts/hub_node.mjs --chat "$chat_bin" ||
  die "the client failed its Node tests"
echo "browser.sh: the chat example passed in Chromium, the client in Node"
