#!/usr/bin/env bash
# Install the n8n release the end-to-end test runs against, outside the repository.
#
#   BILLRUN_CONNECTOR_CACHE   cache root (default: ~/.cache/billrun-connector)
#   N8N_VERSION               n8n release (default: 2.8.4, the newest that runs on Node 20)
#
# The install lives in $BILLRUN_CONNECTOR_CACHE/n8n-$N8N_VERSION and is reused while it is
# complete (a marker file is written last), so running this again costs nothing.
# Prints the install folder on the last line of stdout.
set -euo pipefail

N8N_VERSION="${N8N_VERSION:-2.8.4}"
: "${BILLRUN_CONNECTOR_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/billrun-connector}"
dest="$BILLRUN_CONNECTOR_CACHE/n8n-$N8N_VERSION"
marker="$dest/.install-complete"

if [ -f "$marker" ] && [ -x "$dest/node_modules/.bin/n8n" ]; then
  echo "$dest"
  exit 0
fi

mkdir -p "$BILLRUN_CONNECTOR_CACHE"
# One installer at a time; a second caller waits and then finds the cache complete.
exec 9>"$BILLRUN_CONNECTOR_CACHE/.n8n-$N8N_VERSION.lock"
flock 9
if [ -f "$marker" ] && [ -x "$dest/node_modules/.bin/n8n" ]; then
  echo "$dest"
  exit 0
fi

work="$dest.partial"
rm -rf "$work"
mkdir -p "$work"
# n8n-nodes-base pins xlsx to a tarball outside the npm registry; 0.18.5 is the last release
# on the registry and the override belongs here, in the runtime's folder, not in the node package.
cat >"$work/package.json" <<JSON
{
  "name": "billrun-connector-n8n-runtime",
  "private": true,
  "dependencies": { "n8n": "$N8N_VERSION" },
  "overrides": { "xlsx": "0.18.5" }
}
JSON
echo "installing n8n $N8N_VERSION into $dest (several minutes)" >&2
(cd "$work" && npm install --no-audit --no-fund --loglevel=error >&2)
"$work/node_modules/.bin/n8n" --version >&2 || true
rm -rf "$dest"
mv "$work" "$dest"
touch "$marker"
echo "$dest"
