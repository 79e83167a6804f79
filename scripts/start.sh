#!/usr/bin/env bash
# Install ecs-notebook and open JupyterLab on the runbooks, against the built-in ECS simulator.
# To run the runbooks against the real cloud instead: ECS_NOTEBOOK_TARGET=cloud, with
# HUAWEICLOUD_SDK_AK/SK (and ECS_NOTEBOOK_REGION) in the environment.
source "$(dirname "$0")/_env.sh" lab
export ECS_NOTEBOOK_TARGET="${ECS_NOTEBOOK_TARGET:-simulator}"
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root)  # these machines run as root
exec jupyter lab "${extra[@]}" --ServerApp.ip=127.0.0.1 --ServerApp.root_dir="$ROOT/notebooks" \
    "$ROOT/notebooks/01-reinstall-one-server.ipynb" "$@"
