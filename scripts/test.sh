#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine: installs what the tests need, then
# `cargo test --workspace`.
#
# Run: scripts/test.sh   (CI runs it through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --all-targets
