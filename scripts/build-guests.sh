#!/usr/bin/env bash
# Builds every guest under guests/ (examples and test guests) to a WebAssembly component at
# target/guests/NAME.wasm, so `twiml-edge serve --functions target/guests` serves them all and
# the end-to-end tests find them.
#
# Run: scripts/build-guests.sh
#
# Picks the toolchain itself: rustup's wasm32-unknown-unknown target when it is (or can be)
# installed; otherwise Debian's Rust (rustc-web, cargo-web, rust-web-src, installed with apt when
# missing) building std from source, linked with rustup's rust-lld.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target=wasm32-unknown-unknown
out="$root/target/guests"
mkdir -p "$out"
# A 128 KiB shadow stack instead of 1 MiB keeps a guest's data and heap in its first pages, so a
# fresh instance dirties, and the runtime resets, as few pages as possible.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C link-arg=-zstack-size=131072"

say() { printf 'build-guests: %s\n' "$*" >&2; }

build_with_rustup() {
  say "building guests with rustup's $target target"
  (cd guests && cargo build --release --target "$target")
}

build_with_debian() {
  if [ ! -x /usr/bin/cargo ] || [ ! -d /usr/lib/rustlib/src/rust/library ]; then
    say "installing Debian's Rust with std sources (rustc-web cargo-web rust-web-src)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rustc-web cargo-web rust-web-src >/dev/null
  fi
  local lld
  lld="$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld"
  [ -x "$lld" ] || lld=$(command -v rust-lld || command -v lld || true)
  [ -n "$lld" ] || { say "no rust-lld or lld to link wasm with"; exit 1; }
  say "building guests with Debian's $(/usr/bin/rustc --version) and -Zbuild-std"
  (cd guests && env -u RUSTUP_TOOLCHAIN RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$lld" \
    /usr/bin/cargo build --release --target "$target" -Zbuild-std=std,panic_abort)
}

if command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  build_with_rustup
elif command -v rustup >/dev/null && timeout 120 rustup target add "$target" >/dev/null 2>&1; then
  build_with_rustup
else
  build_with_debian
fi

# Componentize with the runtime itself (wit-component), the same code that accepts uploads.
cargo build -q -p twiml-edge-runtime --bin twiml-edge
for manifest in guests/examples/*/Cargo.toml guests/test-guests/*/Cargo.toml; do
  name=$(basename "$(dirname "$manifest")")
  module="guests/target/$target/release/${name//-/_}.wasm"
  target/debug/twiml-edge componentize "$module" --output "$out/$name.wasm"
  say "$out/$name.wasm"
done
