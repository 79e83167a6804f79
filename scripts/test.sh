#!/usr/bin/env bash
# Install everything the test suite needs (Python packages into .venv, Debian's chromium for the
# browser tests), then lint and type-check once and run the tests on Python 3.11, 3.12 and 3.13:
# every suite on 3.11 (browser, notebooks and Binder included), the rest on 3.12 and 3.13, each
# in its own virtual environment (.venv-3.12, .venv-3.13) with only the `test-core` extra.
# Arguments are passed to every pytest run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PRIMARY=3.11
EXTRA=(3.12 3.13)
# Suites that need JupyterLab, a browser or a Binder build: run on $PRIMARY only.
PRIMARY_ONLY=(--ignore=tests/browser --ignore=tests/notebooks --ignore=tests/binder)

# The newest installed CPython $1 (pyenv's first, then PATH); fails loudly when there is none.
find_python() {
  local version="$1" found=""
  if command -v pyenv >/dev/null 2>&1; then
    found="$(ls -d "$(pyenv root)"/versions/"$version".*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)"
  fi
  if [ -z "$found" ]; then
    found="$(command -v "python$version" || true)"
  fi
  if [ -z "$found" ] || [ "$("$found" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$version" ]; then
    echo "error: Python $version is not installed; CI tests $PRIMARY ${EXTRA[*]} (try: pyenv install $version)" >&2
    return 1
  fi
  echo "$found"
}

declare -A PYTHONS
for version in "$PRIMARY" "${EXTRA[@]}"; do
  PYTHONS[$version]="$(find_python "$version")"
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
