#!/usr/bin/env bash
# Install everything the test suite needs (Python packages into .venv, Debian's chromium for the
# browser tests), then lint and type-check once and run the tests on Python 3.13, 3.11 and 3.12:
# every suite on 3.13 (browser, notebooks and Binder included), the rest on 3.11 and 3.12, each
# in its own virtual environment (.venv-3.11, .venv-3.12) with only the `test-core` extra.
# Arguments are passed to every pytest run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PRIMARY=3.13
EXTRA=(3.11 3.12)
# Suites that need JupyterLab, a browser or a Binder build: run on $PRIMARY only.
PRIMARY_ONLY=(--ignore=tests/browser --ignore=tests/notebooks --ignore=tests/binder)

source "$ROOT/scripts/_python.sh"

declare -A PYTHONS
for version in "$PRIMARY" "${EXTRA[@]}"; do
  if ! PYTHONS[$version]="$(find_python "$version")"; then
    echo "error: Python $version is not installed; CI tests $PRIMARY ${EXTRA[*]} (try: pyenv install $version)" >&2
    exit 1
  fi
done

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation
  else
    echo "warning: /usr/bin/chromium is missing (apt-get install chromium); browser tests will skip" >&2
  fi
fi

# The extra interpreters' environments install while the primary one is linted and tested.
pids=()
for version in "${EXTRA[@]}"; do
  PYTHON="${PYTHONS[$version]}" VENV="$ROOT/.venv-$version" bash scripts/_env.sh test-core \
    >"$ROOT/.venv-$version.log" 2>&1 &
  pids+=($!)
done

PYTHON="${PYTHONS[$PRIMARY]}" source scripts/_env.sh dev
set -x
ruff check .
ruff format --check .
mypy
pytest "$@"
set +x

for i in "${!EXTRA[@]}"; do
  version="${EXTRA[$i]}"
  if ! wait "${pids[$i]}"; then
    cat "$ROOT/.venv-$version.log" >&2
    echo "error: could not install the test environment for Python $version" >&2
    exit 1
  fi
done

# The extra interpreters' suites run side by side (one process each: the two cores are free
# by now); each one's output is shown whole when both are done.
pids=()
for version in "${EXTRA[@]}"; do
  echo "+ Python $version: pytest -m 'not browser' ${PRIMARY_ONLY[*]} $*"
  "$ROOT/.venv-$version/bin/python" -m pytest -p no:cacheprovider -m "not browser" \
    "${PRIMARY_ONLY[@]}" "$@" >"$ROOT/.venv-$version.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!EXTRA[@]}"; do
  version="${EXTRA[$i]}"
  status=0
  wait "${pids[$i]}" || status=$?
  echo "=== Python $version (exit $status) ==="
  cat "$ROOT/.venv-$version.log"
  [ "$status" = 0 ] || failed=1
done
exit "$failed"
