#!/usr/bin/env bash
# Runs every fuzz target (or those named) for a bounded time each, with the checked-in seeds.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      # default: 20 seconds each, all targets
#
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
# Installs cargo-fuzz if missing. New inputs go to fuzz/corpus/<target> (not committed);
# a crash leaves its input in fuzz/artifacts/<target> and fails the script.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-20}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(frame_header server_conn client_conn handshake_request handshake_response extensions inflate)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz"
  cargo install --locked cargo-fuzz || { echo "fuzz.sh: cannot install cargo-fuzz" >&2; exit 1; }
fi

cd "$root/fuzz"
export RUSTC_BOOTSTRAP=1
cargo fuzz build
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  echo "== fuzz $target for ${seconds}s"
  log="artifacts/$target.log"
  mkdir -p artifacts
  rc=0
  cargo fuzz run "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    >"$log" 2>&1 || rc=$?
  grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY|Done [0-9]+ runs)" "$log" || true
  if [ "$rc" != 0 ] || [ -n "$(ls -A "artifacts/$target" 2>/dev/null)" ]; then
    tail -40 "$log" >&2
    echo "fuzz.sh: $target failed (exit $rc); inputs, if any, in fuzz/artifacts/$target" >&2
    exit 1
  fi
done
echo "fuzz.sh: no findings"
