# Shared by scripts/start.sh and scripts/test.sh: a project virtual environment (.venv, or
# $VENV), created with $PYTHON (default: the newest of Python 3.13, 3.12, 3.11 installed) and
# brought up to date from pyproject.toml. One made with another Python version is replaced.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source "$ROOT/scripts/_python.sh"
PYTHON="${PYTHON:-$(newest_python)}"
VENV="${VENV:-$ROOT/.venv}"
EXTRAS="${1:-dev}"
stamp="$VENV/.installed-$EXTRAS"
version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }
if [ -x "$VENV/bin/python" ] && [ "$(version_of "$VENV/bin/python")" != "$(version_of "$PYTHON")" ]; then
  echo "replacing $VENV (Python $(version_of "$VENV/bin/python")) with one for Python $(version_of "$PYTHON") ..."
  rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "installing ecs-notebook[$EXTRAS] into $VENV ..."
  "$VENV/bin/python" -m pip install --quiet -e ".[$EXTRAS]" 2>&1 | grep -v "^WARNING: Location" || true
  "$VENV/bin/python" -c "import ecs_notebook" # fail loudly if the install did not work
  touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
