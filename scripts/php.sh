#!/usr/bin/env bash
# What the wire-format tests run (tests/delivery/php_wire.*): Debian's php-cli and php-curl, whose own
# http_build_query, parse_str and curl the connector is compared with. Installed once; a machine that
# has PHP with curl is left alone.
set -euo pipefail
if command -v php >/dev/null && php -r 'exit(function_exists("curl_init") ? 0 : 1);'; then
  echo "php $(php -r 'echo PHP_VERSION;') with curl is installed"
  exit 0
fi
echo "installing php-cli and php-curl from Debian's packages (PHP's http_build_query, parse_str and curl for the wire-format tests)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update >&2
apt-get install -y --no-install-recommends php-cli php-curl >&2
