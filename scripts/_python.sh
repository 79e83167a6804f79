# Shared by scripts/_env.sh and scripts/test.sh: find an installed CPython by version.

# The newest installed CPython $1 (pyenv's first, then PATH), or nothing (exit status 1).
find_python() {
  local version="$1" found=""
  if command -v pyenv >/dev/null 2>&1; then
    found="$(ls -d "$(pyenv root)"/versions/"$version".*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)"
  fi
  if [ -z "$found" ]; then
    found="$(command -v "python$version" || true)"
  fi
  if [ -z "$found" ] || [ "$("$found" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$version" ]; then
    return 1
  fi
  echo "$found"
}

# The newest supported CPython installed: 3.13, else 3.12, else 3.11.
newest_python() {
  local version
  for version in 3.13 3.12 3.11; do
    find_python "$version" && return 0
  done
  echo "error: ecs-notebook needs Python 3.11, 3.12 or 3.13 (try: pyenv install 3.13)" >&2
  return 1
}
