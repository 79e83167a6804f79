#!/usr/bin/env bash
# Install everything the test suite needs (Python packages into .venv, Debian's chromium for the
# browser tests), then lint, type-check and run every test.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation
  else
    echo "warning: /usr/bin/chromium is missing (apt-get install chromium); browser tests will skip" >&2
  fi
fi
source "$(dirname "$0")/_env.sh" dev
set -x
ruff check .
ruff format --check .
mypy
pytest "$@"
