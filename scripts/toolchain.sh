#!/usr/bin/env bash
# Shared helpers for the heavy, cached installs that CI and the package tests need.
# Source it (it leaves the caller's shell options alone); nothing here writes inside the repository.
#
#   BILLRUN_CONNECTOR_CACHE   where cached toolchains live (default: ~/.cache/billrun-connector)
#
# A missing cache only costs time: every function installs what is absent, and says so on stderr
# while it does.

NODE22_VERSION="22.23.3"
: "${BILLRUN_CONNECTOR_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/billrun-connector}"
export BILLRUN_CONNECTOR_CACHE

# Print the folder holding a Node 22 `node` binary, installing it from the npm registry's
# `node` package when it is not cached yet.
node22_bin() {
  local dir="$BILLRUN_CONNECTOR_CACHE/node-$NODE22_VERSION"
  if [ ! -x "$dir/node_modules/.bin/node" ]; then
    echo "installing Node $NODE22_VERSION into $dir (npm's node package; about a minute, once)" >&2
    mkdir -p "$dir"
    (cd "$dir" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error "node@$NODE22_VERSION" >&2) || return 1
  fi
  echo "$dir/node_modules/.bin"
}

# Make sure `npm` is on PATH: on a Debian machine without it, as root, install Debian's nodejs and
# npm (they bootstrap the rest: Node 22, the Zapier CLI and n8n come from the npm registry).
ensure_npm() {
  if command -v npm >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "npm is not installed: install Node.js 20.19 or newer with npm, then run this again" >&2
    return 1
  fi
  echo "installing Node.js and npm from Debian's packages (apt-get)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >&2
}
