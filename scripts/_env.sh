# Shared by scripts/start.sh and scripts/test.sh: a project virtual environment (.venv, or
# $VENV), created with $PYTHON (default python3) and brought up to date from pyproject.toml.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-$ROOT/.venv}"
EXTRAS="${1:-dev}"
stamp="$VENV/.installed-$EXTRAS"
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
