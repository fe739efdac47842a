#!/usr/bin/env bash
# Builds every guest under guests/ (examples and test guests) into a component at
# target/guests/NAME.wasm, so `twiml-edge serve --functions target/guests` serves them all and the
# end-to-end tests find them.
#
# Run: scripts/build-guests.sh
#
# `twiml-edge build` picks the toolchain itself: rustup's wasm32-unknown-unknown target when it is
# (or can be) installed, else Debian's Rust with std sources. This script installs the Debian
# packages first when neither is there (TWIML_EDGE_TOOLCHAIN=rustup|debian forces one).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'build-guests: %s\n' "$*" >&2; }

has_rustup_target() {
  command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown
}
# Decided once here and handed to `twiml-edge build`, so an offline `rustup target add` is not
# waited for twice.
if [ -z "${TWIML_EDGE_TOOLCHAIN:-}" ]; then
  if has_rustup_target \
    || { command -v rustup >/dev/null && timeout 120 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; }; then
    TWIML_EDGE_TOOLCHAIN=rustup
  else
    TWIML_EDGE_TOOLCHAIN=debian
  fi
fi
export TWIML_EDGE_TOOLCHAIN
if [ "$TWIML_EDGE_TOOLCHAIN" = debian ] \
  && { [ ! -x /usr/bin/cargo ] || [ ! -d /usr/lib/rustlib/src/rust/library ]; }; then
  command -v apt-get >/dev/null || { say "no wasm toolchain: run rustup target add wasm32-unknown-unknown"; exit 1; }
  say "installing Debian's Rust with std sources (rustc-web cargo-web rust-web-src)"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq rustc-web cargo-web rust-web-src >/dev/null
fi

cargo build -q -p twiml-edge --bin twiml-edge
rm -rf target/guests
"${CARGO_TARGET_DIR:-target}/debug/twiml-edge" build guests --out target/guests
# Guests of the standard toolchain (wasm32-wasip2, wit-bindgen, no SDK) need rustup's target.
"${CARGO_TARGET_DIR:-target}/debug/twiml-edge" build --target wasip2 guests/wasip2 --out target/guests
# Guests the runtime must refuse to load stay out of the folder the tests serve.
mkdir -p target/guests/refused
mv target/guests/refused-*.wasm target/guests/refused/
