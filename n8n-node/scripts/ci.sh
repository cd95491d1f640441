#!/usr/bin/env bash
# Everything CI checks for the n8n community node, in order; stops at the first failure.
#   install n8n (cached outside the repository), npm ci, catalog staleness, build, lint and format,
#   unit tests, end-to-end test in the real n8n.
# Needs the connector installed in <repo>/.venv (or BILLRUN_CONNECTOR_BIN) for the last step.
set -euo pipefail

package_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$package_dir"
export CI="${CI:-true}"

step() { printf '\n==> n8n-node: %s\n' "$*"; }

# Runs a command and shows its output only when it fails: npm's engine warnings about the
# tooling's own dependencies (some want Node 22 or 24, none is used here) and the CLI's spinner
# codes say nothing when all goes well.
quietly() {
  local log status=0
  log="$(mktemp)"
  "$@" >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    cat "$log"
  fi
  rm -f "$log"
  return "$status"
}

step "install n8n (cached)"
scripts/install-n8n.sh

step "npm ci"
# Plain npm ci, as a contributor runs it (.npmrc skips the tooling's install scripts).
quietly npm ci --no-audit --no-fund

step "catalog copy is current"
npm run --silent catalog:check

step "build"
quietly npm run build

step "lint"
quietly npm run lint
npm run --silent format:check

step "unit tests"
npm test

step "end-to-end test in n8n"
scripts/e2e.sh
