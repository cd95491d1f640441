#!/usr/bin/env bash
# Toolchain for the Zapier app: Node 22 and the Zapier Platform CLI, both cached outside the
# repository under $BILLRUN_CONNECTOR_CACHE and keyed by version. Source this file, then call
# `zapier_toolchain` once: it puts Node 22 and the `zapier-platform` binary on PATH, installing
# whatever is missing (idempotent; a missing cache only costs time).

ZAPIER_CLI_VERSION="19.1.0"

_zapier_app_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../../scripts/toolchain.sh
source "$_zapier_app_dir/../scripts/toolchain.sh"

# Print the folder holding the `zapier-platform` binary, installing the CLI when absent.
zapier_cli_bin() {
  local dir="$BILLRUN_CONNECTOR_CACHE/zapier-cli-$ZAPIER_CLI_VERSION"
  if [ ! -x "$dir/node_modules/.bin/zapier-platform" ]; then
    mkdir -p "$dir" || return 1
    (cd "$dir" \
      && { [ -f package.json ] || npm init -y >/dev/null; } \
      && npm install --no-audit --no-fund --loglevel=error --save-exact \
           "zapier-platform-cli@$ZAPIER_CLI_VERSION" >&2) || return 1
  fi
  echo "$dir/node_modules/.bin"
}

# Put Node 22 and the CLI on PATH and keep the CLI from sending analytics.
zapier_toolchain() {
  local node_dir cli_dir
  node_dir="$(node22_bin)" && [ -x "$node_dir/node" ] || { echo "could not install Node 22" >&2; return 1; }
  export PATH="$node_dir:$PATH"
  cli_dir="$(zapier_cli_bin)" && [ -x "$cli_dir/zapier-platform" ] || { echo "could not install zapier-platform-cli $ZAPIER_CLI_VERSION" >&2; return 1; }
  export PATH="$cli_dir:$PATH"
  export DISABLE_ZAPIER_ANALYTICS=1
}
