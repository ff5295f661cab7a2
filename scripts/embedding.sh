#!/usr/bin/env bash
# wsio embedded in rouille (embedding/, a crate of its own: rouille brings about a hundred
# crates, too many for wsio's dev-dependencies): formatting, lints, and its test against
# wsio's client. The tiny_http embedding is an example of wsio itself (cargo test runs it).
set -euo pipefail

cd "$(dirname "$0")/.."
cargo fmt --manifest-path embedding/Cargo.toml -- --check
cargo fmt --manifest-path peers/Cargo.toml -- --check
cargo clippy --manifest-path embedding/Cargo.toml --all-targets -- -D warnings
cargo test --manifest-path embedding/Cargo.toml
echo "embedding.sh: rouille serves wsio"
