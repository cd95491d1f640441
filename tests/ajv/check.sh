#!/usr/bin/env bash
# The schema check of CI: with Node 22 (cached outside the repository, see scripts/toolchain.sh) and
# the exact ajv and ajv-formats of package-lock.json, compile every schema of schemas/ in ajv's strict
# mode (draft 2020-12, any warning fails) and validate every sample; the check's own tests first.
set -euo pipefail
cd "$(dirname "$0")"
source ../../scripts/toolchain.sh
node_dir="$(node22_bin)" && [ -x "$node_dir/node" ] || { echo "could not install Node 22" >&2; exit 1; }
export PATH="$node_dir:$PATH"
echo "==> ajv schema check: npm ci (ajv and ajv-formats, pinned)"
npm ci --no-audit --no-fund --loglevel=error
echo "==> ajv schema check: the check's own tests"
node --test
echo "==> ajv schema check: schemas/"
node check-schemas.mjs
