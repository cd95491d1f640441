#!/usr/bin/env bash
# What the console's browser tests drive: Debian's chromium and chromium-driver (and curl, which the
# console's BillRun registration commands use). Installed once; a machine that has them is left alone.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
command -v curl >/dev/null || missing+=(curl)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
echo "installing ${missing[*]} from Debian's packages (for the console's browser tests)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
