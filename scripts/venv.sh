#!/usr/bin/env bash
# Source it: makes sure the project's virtualenv (.venv at the repository root) exists and holds
# the project with its test extras, then puts it first on PATH. The first run (and the first after
# pyproject.toml changes) installs, saying so; pip's own output goes to .venv/install.log and is
# shown only when the install fails.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo_root/.venv"
stamp="$venv/.installed-$(sha256sum "$repo_root/pyproject.toml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "billrun-connector needs Python 3.11 or newer as python3 (found: $(python3 --version 2>&1))" >&2
    return 1 2>/dev/null || exit 1
  fi
  if [ ! -x "$venv/bin/python" ]; then
    echo "==> setting up: creating the Python environment in .venv" >&2
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      # Debian ships venv support apart from python3.
      if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "    installing Debian's python3-venv (apt-get)" >&2
        rm -rf "$venv"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >&2
        python3 -m venv "$venv"
      else
        echo "python3 cannot make a virtualenv: install your system's venv package (Debian: python3-venv)" >&2
        return 1 2>/dev/null || exit 1
      fi
    fi
  fi
  echo "==> setting up: installing billrun-connector and its dependencies into .venv (about a minute; again only when pyproject.toml changes)" >&2
  log="$venv/install.log"
  if ! { "$venv/bin/python" -m pip install --disable-pip-version-check --upgrade pip \
    && "$venv/bin/python" -m pip install --disable-pip-version-check -e "$repo_root[test]"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "installing into .venv failed; pip's output is above and in $log" >&2
    return 1 2>/dev/null || exit 1
  fi
  rm -f "$venv"/.installed-* && touch "$stamp"
  echo "==> setting up: done" >&2
fi
export PATH="$venv/bin:$PATH"
