#!/usr/bin/env bash
# Install ecs-notebook and open JupyterLab on runbook 01, against the built-in ECS simulator.
# To run the runbooks against the real cloud instead: ECS_NOTEBOOK_TARGET=cloud, with
# HUAWEICLOUD_SDK_AK/SK (and ECS_NOTEBOOK_REGION) in the environment.
# PORT=8899 bash scripts/start.sh picks another port (default 8888).
source "$(dirname "$0")/_env.sh" lab
export ECS_NOTEBOOK_TARGET="${ECS_NOTEBOOK_TARGET:-simulator}"
PORT="${PORT:-8888}"
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root)  # these machines run as root
# default_url: the URL JupyterLab prints and opens is runbook 01 itself, not the Launcher.
# port_retries=0: fail loudly on a busy port rather than serve on another one.
exec "$VENV/bin/python" "$ROOT/scripts/_lab.py" "${extra[@]}" \
    --ServerApp.ip=127.0.0.1 --ServerApp.port="$PORT" --ServerApp.port_retries=0 \
    --ServerApp.root_dir="$ROOT/notebooks" \
    --LabApp.default_url=/lab/tree/01-reinstall-one-server.ipynb "$@"
