#!/usr/bin/env bash
# Runs the Autobahn|Testsuite against wsio and fails unless every case is OK (or
# INFORMATIONAL by design).
#
#   scripts/autobahn.sh server   # wstest fuzzingclient -> examples/autobahn_server
#   scripts/autobahn.sh client   # examples/autobahn_client -> wstest fuzzingserver
#   scripts/autobahn.sh install  # only install wstest (so that both roles can then run at once)
#
# With AUTOBAHN_TLS=1 both run over wss://, with a certificate authority and a certificate
# for localhost made for the run with the openssl command (wstest does not verify the
# server's certificate; wsio's client trusts the run's CA only).
#
# Installs wstest on first use: a virtualenv made with Python 2.7.18 from pyenv, holding
# autobahntestsuite, under $WSIO_CACHE (default ~/.cache/wsio). Everything binds to
# 127.0.0.1 and the suite's report web server stays off. Reports go to target/autobahn/.
#
# With AUTOBAHN_NONBLOCKING=1 the server is examples/echo_poll (mio event loops over
# non-blocking sockets) and the client runs every case over a non-blocking socket.
#
# Environment:
#   AUTOBAHN_CASES    cases to run (default "*")
#   AUTOBAHN_EXCLUDE  cases to skip, space-separated (default: none)
#   AUTOBAHN_TLS      1: over wss:// (default: ws://)
#   AUTOBAHN_NONBLOCKING  1: the event-loop server and the non-blocking client
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
tls=${AUTOBAHN_TLS:-0}
scheme=ws
out=$root/target/autobahn/$mode
if [ "$tls" = 1 ]; then
  scheme=wss
  out=$root/target/autobahn/$mode-tls
fi
nonblocking=${AUTOBAHN_NONBLOCKING:-0}
if [ "$nonblocking" = 1 ]; then
  if [ "$tls" = 1 ]; then echo "autobahn.sh: AUTOBAHN_NONBLOCKING=1 runs over ws:// only" >&2; exit 2; fi
  out=$root/target/autobahn/$mode-nonblocking
fi
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

# A CA and a certificate for localhost and 127.0.0.1 it signs, in $out/certs.
make_certs() {
  command -v openssl >/dev/null 2>&1 || die "the openssl command is needed for AUTOBAHN_TLS=1"
  local dir=$out/certs
  mkdir -p "$dir"
  (
    cd "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -keyout ca.key -out ca.pem -subj "/CN=wsio autobahn test CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout key.pem -out cert.csr -subj "/CN=localhost"
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >cert.ext
    openssl x509 -req -in cert.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile cert.ext -out cert.pem
  ) >"$out/certs.log" 2>&1 || die "cannot make test certificates; see $out/certs.log"
}

install_wstest
if [ "$mode" = install ]; then
  exit 0
fi
rm -rf "$out"
mkdir -p "$out"
tls_server=()
tls_client=()
spec_tls=""
if [ "$tls" = 1 ]; then
  make_certs
  tls_server=(--cert "$out/certs/cert.pem" --key "$out/certs/key.pem")
  tls_client=(--ca "$out/certs/ca.pem")
  spec_tls="\"key\": \"$out/certs/key.pem\", \"cert\": \"$out/certs/cert.pem\","
fi
port=$(free_port)
set -f # keep the case globs literal
cases_json=$(json_list "$cases")
exclude_json=$(json_list "$exclude")
set +f
cd "$root"

if [ "$mode" = server ]; then
  if [ "$nonblocking" = 1 ]; then
    cargo build --release --quiet --example echo_poll
    target/release/examples/echo_poll --addr "127.0.0.1:$port" --deflate >"$out/testee.log" 2>&1 &
  else
    cargo build --release --quiet --example autobahn_server
    target/release/examples/autobahn_server --addr "127.0.0.1:$port" "${tls_server[@]}" >"$out/testee.log" 2>&1 &
  fi
  pids+=($!)
  wait_for_port "$port"
  cat >"$out/spec.json" <<SPEC
{
  "outdir": "$out",
  "servers": [{"agent": "wsio", "url": "$scheme://127.0.0.1:$port"}],
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
  "url": "$scheme://127.0.0.1:$port", $spec_tls
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
  client_mode=()
  [ "$nonblocking" = 1 ] && client_mode=(--nonblocking)
  timeout 1800 target/release/examples/autobahn_client --url "$scheme://localhost:$port" --agent wsio "${tls_client[@]}" "${client_mode[@]}" \
    >"$out/testee.log" 2>&1 || die "autobahn_client failed; see $out/testee.log"
fi

# The whole suite (autobahntestsuite 0.8.2) has 517 cases; a run of all of them must
# report every one.
expected=
if [ "$cases" = "*" ] && [ -z "$exclude" ]; then
  expected=517
fi
"$venv/bin/python" "$root/scripts/autobahn_summary.py" "$mode" "$out/index.json" $expected
