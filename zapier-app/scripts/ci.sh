#!/usr/bin/env bash
# The Zapier app's CI: Node 22 and the Zapier CLI (cached outside the repository), a clean install,
# the catalog and README staleness checks, the CLI's offline validation, a build of the upload zip,
# and the jest suite against real connectors started from this repository. Exits non-zero on the
# first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# Plain text when the output goes to a log rather than a terminal: no colour codes from the CLI or jest.
if [ ! -t 1 ]; then
  export NO_COLOR=1 FORCE_COLOR=0
fi

source scripts/toolchain.sh
zapier_toolchain
echo "node $(node --version), $(zapier-platform --version | head -n 1)"

echo "==> npm ci"
npm ci --no-audit --no-fund --loglevel=error

echo "==> catalog copy and README trigger list up to date"
node scripts/generate-catalog.js --check
node scripts/trigger-list.js --check

echo "==> zapier-platform validate --without-style"
zapier-platform validate --without-style

echo "==> zapier-platform build --skip-validation"
zapier-platform build --skip-validation
test -s build/build.zip

echo "==> jest"
# Jest and the connectors its suites start run in their own process group, so that an interrupted
# run stops all of them; the suites themselves stop their connectors by pid.
setsid npm test -- --ci &
jest_pid=$!
trap 'kill -TERM -- "-$jest_pid" 2>/dev/null || true' INT TERM EXIT
wait "$jest_pid"
trap - INT TERM EXIT
