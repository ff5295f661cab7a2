#!/usr/bin/env bash
# wsio's client example through real proxies from Debian's packages, to wsio's echo example
# over ws:// and wss:// (a test CA made for the run):
# - tinyproxy: HTTP CONNECT without and with Basic auth (the password percent-encoded in
#   the proxy URL), and a wrong password refused with a typed error;
# - stunnel in front of tinyproxy: an https:// proxy (TLS to the proxy, CONNECT, then TLS
#   to the server for wss://);
# - microsocks: SOCKS5 without and with username/password, socks5:// (the client resolves
#   the name: the proxy sees an address) and socks5h:// (the proxy sees the name), and a
#   wrong password refused with a typed error;
# - the environment: a proxy from https_proxy / all_proxy is used, and never for loopback
#   servers (reaching them directly).
# Installs tinyproxy, microsocks and stunnel4 with apt-get, and the Python peers (for the
# certificates) as scripts/peers.sh does. Fails loudly if it cannot.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/peers.sh"

missing=()
command -v tinyproxy >/dev/null 2>&1 || missing+=(tinyproxy)
command -v microsocks >/dev/null 2>&1 || missing+=(microsocks)
command -v stunnel4 >/dev/null 2>&1 || command -v stunnel >/dev/null 2>&1 || missing+=(stunnel4)
[ ${#missing[@]} = 0 ] || apt_install "${missing[@]}"
stunnel_bin=$(command -v stunnel4 || command -v stunnel) || die "stunnel installed but not on PATH"

cd "$root"
cargo build --release --quiet --example echo --example client
echo_bin=target/release/examples/echo
client_bin=target/release/examples/client

make_certs "$work/certs"
certs=$work/certs

start() {
  local port=$1 log=$2
  shift 2
  "$@" >"$log" 2>&1 &
  children+=($!)
  wait_for_port "$port" || die "$1 did not start: $(cat "$log")"
}

ws_port=$(free_port)
start "$ws_port" "$work/echo-ws.log" "$echo_bin" --addr "127.0.0.1:$ws_port"
wss_port=$(free_port)
start "$wss_port" "$work/echo-wss.log" "$echo_bin" --addr "127.0.0.1:$wss_port" \
  --cert "$certs/cert.pem" --key "$certs/key.pem"
targets=("ws://localhost:$ws_port/" "wss://localhost:$wss_port/")

# tinyproxy, open and with Basic auth; it drops privileges when started as root.
tinyproxy_conf() {
  local port=$1 name=$2
  {
    echo "Port $port"
    echo "Listen 127.0.0.1"
    echo "Timeout 60"
    echo "MaxClients 50"
    echo "Allow 127.0.0.1"
    echo "LogLevel Connect"
    echo "LogFile \"$work/$name.log\""
    echo "PidFile \"$work/$name.pid\""
    [ -n "${3:-}" ] && echo "BasicAuth $3 $4"
    if [ "$(id -u)" = 0 ]; then echo "User nobody"; echo "Group nogroup"; fi
  } >"$work/$name.conf"
}
chmod 777 "$work"
http_open=$(free_port)
tinyproxy_conf "$http_open" tinyproxy-open
start "$http_open" "$work/tinyproxy-open.out" tinyproxy -d -c "$work/tinyproxy-open.conf"
http_auth=$(free_port)
tinyproxy_conf "$http_auth" tinyproxy-auth alice s3cr3t
start "$http_auth" "$work/tinyproxy-auth.out" tinyproxy -d -c "$work/tinyproxy-auth.conf"

# stunnel: TLS to the proxy, in front of the authenticating tinyproxy.
https_port=$(free_port)
cat >"$work/stunnel.conf" <<CONF
foreground = yes
pid =
[proxy]
accept = 127.0.0.1:$https_port
connect = 127.0.0.1:$http_auth
cert = $certs/proxy-bundle.pem
CONF
start "$https_port" "$work/stunnel.log" "$stunnel_bin" "$work/stunnel.conf"

socks_open=$(free_port)
start "$socks_open" "$work/socks-open.log" microsocks -i 127.0.0.1 -p "$socks_open"
socks_auth=$(free_port)
start "$socks_auth" "$work/socks-auth.log" microsocks -i 127.0.0.1 -p "$socks_auth" -u alice -P s3cr3t

# Echoes through `proxy` to every target; the proxy's log must show each connection.
through() {
  local label=$1 proxy=$2 log=$3 before out
  for url in "${targets[@]}"; do
    before=$(wc -l <"$log")
    out=$(timeout 60 "$client_bin" --url "$url" --count 20 --size 70000 --ca "$certs/ca.pem" --proxy "$proxy" 2>&1) ||
      die "$label to $url failed: $out"
    grep -q "20/20 echoes matched" <<<"$out" || die "$label to $url: $out"
    [ "$(wc -l <"$log")" -gt "$before" ] || die "$label to $url: the proxy saw no connection"
    echo "$label -> ${url%%:*}://: 20 echoes of 70000 bytes matched"
  done
}

# A refusal: the client fails with the typed error's message, and never shows the password.
refused() {
  local label=$1 proxy=$2 expected=$3 out
  for url in "${targets[@]}"; do
    out=$(timeout 60 "$client_bin" --url "$url" --count 1 --size 1 --ca "$certs/ca.pem" --proxy "$proxy" 2>&1) &&
      die "$label to $url should fail: $out"
    grep -q "$expected" <<<"$out" || die "$label to $url: expected \"$expected\", got: $out"
    grep -q "wrong" <<<"$out" && die "$label to $url: the password shows: $out"
    echo "$label -> ${url%%:*}://: refused as expected: $out"
  done
}

through "http:// proxy (tinyproxy)" "http://127.0.0.1:$http_open" "$work/tinyproxy-open.log"
through "http:// proxy with Basic auth (tinyproxy)" "http://alice:s3cr%33t@127.0.0.1:$http_auth" "$work/tinyproxy-auth.log"
refused "http:// proxy, wrong password" "http://alice:wrong@127.0.0.1:$http_auth" "the proxy refused with status 40[17]"
refused "http:// proxy, no password" "http://127.0.0.1:$http_auth" "the proxy refused with status 40[17]"
through "https:// proxy with Basic auth (stunnel + tinyproxy)" "https://alice:s3cr3t@localhost:$https_port" "$work/tinyproxy-auth.log"
refused "https:// proxy, wrong password" "https://alice:wrong@localhost:$https_port" "the proxy refused with status 40[17]"
through "socks5:// proxy (microsocks)" "socks5://127.0.0.1:$socks_open" "$work/socks-open.log"
through "socks5h:// proxy (microsocks)" "socks5h://127.0.0.1:$socks_open" "$work/socks-open.log"
through "socks5:// proxy with username and password (microsocks)" "socks5://alice:s3cr3t@127.0.0.1:$socks_auth" "$work/socks-auth.log"
through "socks5h:// proxy with username and password (microsocks)" "socks5h://alice:s3cr3t@127.0.0.1:$socks_auth" "$work/socks-auth.log"
refused "socks5:// proxy, wrong password" "socks5://alice:wrong@127.0.0.1:$socks_auth" "refused the username and password"
refused "socks5:// proxy, no password" "socks5://127.0.0.1:$socks_auth" "accepts none of the offered authentication methods"

# socks5:// resolves the name here, socks5h:// hands it to the proxy.
grep -q "connected to 127.0.0.1:$ws_port" "$work/socks-open.log" || die "socks5:// sent a name, not an address"
grep -q "connected to localhost:$ws_port" "$work/socks-open.log" || die "socks5h:// did not send the name"
echo "socks5:// sent the address, socks5h:// the name"

# The environment: loopback servers are reached directly even with every variable set to a
# proxy that does not exist...
out=$(http_proxy=http://127.0.0.1:1 https_proxy=http://127.0.0.1:1 all_proxy=socks5://127.0.0.1:1 \
  timeout 60 "$client_bin" --url "wss://localhost:$wss_port/" --count 1 --size 10 --ca "$certs/ca.pem" 2>&1) ||
  die "a loopback server was not reached directly with proxies in the environment: $out"
echo "environment: loopback servers are reached directly: $out"
# ...and a proxy URL that does not parse is an error, not a silent direct connection.
out=$(all_proxy=ftp://127.0.0.1:1 timeout 60 "$client_bin" --url "ws://wsio-test.invalid:$ws_port/" --count 1 --size 1 2>&1) &&
  die "a bad all_proxy was ignored: $out"
grep -q "bad proxy URL" <<<"$out" || die "a bad all_proxy: expected \"bad proxy URL\", got: $out"
echo "environment: a bad proxy URL is an error: $out"
# A non-loopback name goes through the environment's proxy: socks5h:// lets microsocks
# resolve it, and it cannot: the proxy's refusal proves the request went through it.
before=$(wc -l <"$work/socks-open.log")
out=$(all_proxy=socks5h://127.0.0.1:$socks_open timeout 60 "$client_bin" \
  --url "ws://wsio-test.invalid:$ws_port/" --count 1 --size 1 2>&1) && die "wsio-test.invalid resolved: $out"
grep -q "the SOCKS5 proxy refused" <<<"$out" || die "all_proxy was not used: $out"
echo "environment: all_proxy is used for other hosts: $out"
# http_proxy for ws://, https_proxy for wss://, each seen refusing a name it cannot resolve.
out=$(http_proxy=http://127.0.0.1:$http_open https_proxy=socks5h://127.0.0.1:1 timeout 60 "$client_bin" \
  --url "ws://wsio-test.invalid:$ws_port/" --count 1 --size 1 2>&1) && die "wsio-test.invalid resolved: $out"
grep -q "the proxy refused with status" <<<"$out" || die "http_proxy was not used for ws://: $out"
echo "environment: http_proxy is used for ws://: $out"
out=$(https_proxy=http://127.0.0.1:$http_open http_proxy=socks5h://127.0.0.1:1 timeout 60 "$client_bin" \
  --url "wss://wsio-test.invalid:$wss_port/" --count 1 --size 1 2>&1) && die "wsio-test.invalid resolved: $out"
grep -q "the proxy refused with status" <<<"$out" || die "https_proxy was not used for wss://: $out"
echo "environment: https_proxy is used for wss://: $out"

echo "proxies.sh: every proxy passed"
