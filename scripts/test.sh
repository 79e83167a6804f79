#!/usr/bin/env bash
# Install everything the test suite needs, then lint, type-check and run every test.
source "$(dirname "$0")/_env.sh" dev
set -x
ruff check .
ruff format --check .
mypy
pytest "$@"
