#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, on a free loopback port.
#
#   scripts/postgres.sh install install Debian's postgresql if missing; prints its bin folder
#   scripts/postgres.sh start   install Debian's postgresql if missing, create and start a cluster;
#                               prints the database URL alone on its last line
#   scripts/postgres.sh url     print the URL of the running cluster
#   scripts/postgres.sh stop    stop the cluster and delete it
#
# The cluster lives in $BILLRUN_CONNECTOR_PG_DIR (default: a folder under /tmp named after this
# checkout), runs as the postgres user when started by root, trusts local connections and keeps
# nothing durable (fsync off): it is for tests only.
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
state_dir="${BILLRUN_CONNECTOR_PG_DIR:-/tmp/billrun-connector-pg-$(printf '%s' "$repo_root" | sha256sum | cut -c1-12)}"
data_dir="$state_dir/data"
url_file="$state_dir/url"

pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    echo "installing PostgreSQL from Debian's packages (apt-get; a minute, once)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    dir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  fi
  echo "$dir"
}

# Run a command as the cluster's owner: postgres when we are root (PostgreSQL refuses root).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

running() {
  [ -f "$data_dir/postmaster.pid" ] && as_owner "$1/pg_ctl" -D "$data_dir" status >/dev/null 2>&1
}

start() {
  local bin port
  bin="$(pg_bin)"
  if running "$bin" && [ -f "$url_file" ]; then
    cat "$url_file"
    return
  fi
  rm -rf "$state_dir"
  mkdir -p "$data_dir"
  chmod 755 "$state_dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres:postgres "$state_dir"
  fi
  as_owner "$bin/initdb" -D "$data_dir" -U postgres --auth=trust -E UTF8 --no-sync >"$state_dir/initdb.log" 2>&1 \
    || { cat "$state_dir/initdb.log" >&2; exit 1; }
  # Another process may take the free port before the server binds it: try a few ports.
  local attempt
  for attempt in 1 2 3; do
    port="$(free_port)"
    if as_owner "$bin/pg_ctl" -D "$data_dir" -l "$state_dir/server.log" -s -w -t 60 \
      -o "-p $port -k $state_dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >&2; then
      break
    fi
    if [ "$attempt" -eq 3 ]; then
      cat "$state_dir/server.log" >&2
      exit 1
    fi
  done
  echo "started a throwaway PostgreSQL for the tests on 127.0.0.1:$port ($state_dir)" >&2
  echo "postgresql://postgres@127.0.0.1:$port/postgres" | as_owner tee "$url_file" >/dev/null
  cat "$url_file"
}

stop() {
  local bin
  if [ ! -d "$state_dir" ]; then
    return
  fi
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$bin" ] && [ -f "$data_dir/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$data_dir" -m fast -s -w -t 60 stop >&2 || true
  fi
  rm -rf "$state_dir"
}

case "${1:-}" in
  install) pg_bin ;;
  start) start ;;
  stop) stop ;;
  url) [ -f "$url_file" ] && cat "$url_file" || { echo "no cluster running" >&2; exit 1; } ;;
  *) echo "usage: $0 install|start|stop|url" >&2; exit 2 ;;
esac
