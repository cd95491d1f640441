#!/usr/bin/env bash
# Shared helpers for the heavy, cached installs that CI and the package tests need.
# Source it (it leaves the caller's shell options alone); nothing here writes inside the repository.
#
#   BILLRUN_CONNECTOR_CACHE   where cached toolchains live (default: ~/.cache/billrun-connector)
#
# A missing cache only costs time: every function installs what is absent.

NODE22_VERSION="22.23.3"
: "${BILLRUN_CONNECTOR_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/billrun-connector}"
export BILLRUN_CONNECTOR_CACHE

# Print the folder holding a Node 22 `node` binary, installing it from the npm registry's
# `node` package when it is not cached yet.
node22_bin() {
  local dir="$BILLRUN_CONNECTOR_CACHE/node-$NODE22_VERSION"
  if [ ! -x "$dir/node_modules/.bin/node" ]; then
    mkdir -p "$dir"
    (cd "$dir" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error "node@$NODE22_VERSION" >&2) || return 1
  fi
  echo "$dir/node_modules/.bin"
}
