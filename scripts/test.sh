#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine: installs what the tests need (a wasm
# toolchain for the guests, twilio-python for the compatibility tests, nightly and cargo-fuzz for
# the fuzz pass), builds the guests, runs `cargo test` on everything, documentation examples
# included, then fuzzes each parser of outside input for a few seconds.
#
# Run: scripts/test.sh   (CI runs it through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

# The crates point one way and no crate's modules refer to each other in a cycle.
scripts/check-layers.py

scripts/build-guests.sh

# An unmodified Twilio helper library drives the API and builds the TwiML the SDK must match
# (tests/all/twilio_compat.rs, tests/all/sdk_documents.rs).
if [ ! -x target/python/bin/python ] || ! target/python/bin/python -c 'import twilio' 2>/dev/null; then
  python3 -m venv target/python
  target/python/bin/pip install --quiet --disable-pip-version-check 'twilio>=9,<10'
fi

cargo test --workspace --all-targets
# --all-targets leaves out the examples in the docs (the SDK's are what a guest author copies).
cargo test --workspace --doc

scripts/walkthrough.sh

# A short pass over every fuzz target (scripts/fuzz.sh SECONDS runs longer ones).
scripts/fuzz.sh 15
