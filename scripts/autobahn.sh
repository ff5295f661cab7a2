#!/usr/bin/env bash
# Runs the Autobahn|Testsuite against wsio and fails unless every case is OK (or
# INFORMATIONAL by design).
#
#   scripts/autobahn.sh server   # wstest fuzzingclient -> examples/autobahn_server
#   scripts/autobahn.sh client   # examples/autobahn_client -> wstest fuzzingserver
#   scripts/autobahn.sh install  # only install wstest (so that both roles can then run at once)
#
# Installs wstest on first use: a virtualenv made with Python 2.7.18 from pyenv, holding
# autobahntestsuite, under $WSIO_CACHE (default ~/.cache/wsio). Everything binds to
# 127.0.0.1 and the suite's report web server stays off. Reports go to target/autobahn/.
#
# Environment:
#   AUTOBAHN_CASES    cases to run (default "*")
#   AUTOBAHN_EXCLUDE  cases to skip, space-separated (default: none)
set -euo pipefail

mode=${1:-}
if [ "$mode" != server ] && [ "$mode" != client ] && [ "$mode" != install ]; then
  echo "usage: $0 server|client|install" >&2
  exit 2
fi

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${WSIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wsio}
venv=$cache/autobahn-venv
cases=${AUTOBAHN_CASES:-*}
exclude=${AUTOBAHN_EXCLUDE-}
out=$root/target/autobahn/$mode
autobahn_version=25.10.1

die() {
  echo "autobahn.sh: $*" >&2
  exit 1
}

install_wstest() {
  if [ -x "$venv/bin/wstest" ] && "$venv/bin/python" -c 'import autobahntestsuite' 2>/dev/null; then
    return
  fi
  echo "autobahn.sh: installing wstest (autobahntestsuite $autobahn_version) into $venv"
  local py27=""
  if command -v pyenv >/dev/null 2>&1; then
    py27="$(pyenv root)/versions/2.7.18/bin/python"
    if [ ! -x "$py27" ]; then
      echo "autobahn.sh: Python 2.7.18 is not under pyenv; trying 'pyenv install 2.7.18'"
      pyenv install -s 2.7.18 || die "cannot install Python 2.7.18 with pyenv, which wstest needs"
    fi
  fi
  [ -x "$py27" ] || die "wstest needs Python 2.7.18 from pyenv (\$(pyenv root)/versions/2.7.18); pyenv not found"
  local tools=$cache/py27-virtualenv
  if ! PYTHONPATH=$tools "$py27" -m virtualenv --version >/dev/null 2>&1; then
    "$py27" -m pip install --quiet --disable-pip-version-check --target "$tools" 'virtualenv<20.22' ||
      die "cannot install virtualenv for Python 2.7 (is PyPI reachable?)"
  fi
  rm -rf "$venv"
  PYTHONPATH=$tools "$py27" -m virtualenv --quiet "$venv" || die "cannot create the virtualenv $venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "autobahntestsuite==$autobahn_version" ||
    die "cannot pip install autobahntestsuite $autobahn_version (is PyPI reachable?)"
  "$venv/bin/wstest" --help >/dev/null 2>&1 || die "wstest was installed but does not run"
}

free_port() {
  "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_port() {
  local port=$1
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  die "nothing listens on 127.0.0.1:$port"
}

# The spec's case lists as JSON.
json_list() {
  local first=1
  printf '['
  for item in $1; do
    [ $first = 1 ] || printf ', '
    printf '"%s"' "$item"
    first=0
  done
  printf ']'
}

pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

install_wstest
if [ "$mode" = install ]; then
  exit 0
fi
rm -rf "$out"
mkdir -p "$out"
port=$(free_port)
set -f # keep the case globs literal
cases_json=$(json_list "$cases")
exclude_json=$(json_list "$exclude")
set +f
cd "$root"

if [ "$mode" = server ]; then
  cargo build --release --quiet --example autobahn_server
  target/release/examples/autobahn_server --addr "127.0.0.1:$port" >"$out/testee.log" 2>&1 &
  pids+=($!)
  wait_for_port "$port"
  cat >"$out/spec.json" <<SPEC
{
  "outdir": "$out",
  "servers": [{"agent": "wsio", "url": "ws://127.0.0.1:$port"}],
  "cases": $cases_json,
  "exclude-cases": $exclude_json,
  "exclude-agent-cases": {}
}
SPEC
  (cd "$out" && timeout 1800 "$venv/bin/wstest" -m fuzzingclient -s spec.json >wstest.log 2>&1) ||
    die "wstest fuzzingclient failed; see $out/wstest.log"
else
  cargo build --release --quiet --example autobahn_client
  cat >"$out/spec.json" <<SPEC
{
  "url": "ws://127.0.0.1:$port",
  "outdir": "$out",
  "cases": $cases_json,
  "exclude-cases": $exclude_json,
  "exclude-agent-cases": {}
}
SPEC
  # The fuzzing server binds to every interface by default; this binds it to loopback.
  (cd "$out" && exec "$venv/bin/python" -c '
import sys
import autobahntestsuite.fuzzing as fuzzing
from autobahn.twisted.websocket import listenWS
fuzzing.listenWS = lambda factory, context=None: listenWS(factory, context, interface="127.0.0.1")
from autobahntestsuite.wstest import run
sys.argv = ["wstest", "-m", "fuzzingserver", "-s", "spec.json", "-u", "0"]
sys.exit(run())
' >wstest.log 2>&1) &
  pids+=($!)
  wait_for_port "$port"
  timeout 1800 target/release/examples/autobahn_client --url "ws://127.0.0.1:$port" --agent wsio \
    >"$out/testee.log" 2>&1 || die "autobahn_client failed; see $out/testee.log"
fi

# The whole suite (autobahntestsuite 0.8.2) has 517 cases; a run of all of them must
# report every one.
expected=
if [ "$cases" = "*" ] && [ -z "$exclude" ]; then
  expected=517
fi
"$venv/bin/python" "$root/scripts/autobahn_summary.py" "$mode" "$out/index.json" $expected
