#!/usr/bin/env bash
# End-to-end test of the BillRun Trigger in a real n8n (see e2e/n8n.e2e.test.mjs).
#
#   BILLRUN_CONNECTOR_BIN     the connector command (default: <repo>/.venv/bin/billrun-connector)
#   BILLRUN_CONNECTOR_CACHE   where n8n is cached (default: ~/.cache/billrun-connector)
#   BILLRUN_E2E_KEEP=1        keep the temporary folder with the logs and databases
set -euo pipefail

package_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$package_dir"

N8N_HOME="$(scripts/install-n8n.sh | tail -n 1)"
export N8N_HOME
if [ ! -f dist/nodes/BillRunTrigger/BillRunTrigger.node.js ]; then
  npm run build
fi

# The test stops every process it starts; this stops the test itself if we are interrupted.
node e2e/n8n.e2e.test.mjs &
test_pid=$!
trap 'kill "$test_pid" 2>/dev/null || true; wait "$test_pid" 2>/dev/null || true' INT TERM
wait "$test_pid"
