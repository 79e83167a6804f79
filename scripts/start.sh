#!/usr/bin/env bash
# Install ecs-notebook and start the built-in ECS simulator on loopback.
# (When the runbooks land, this launches JupyterLab on notebooks/ against the simulator.)
source "$(dirname "$0")/_env.sh" dev
exec ecs-notebook simulator --servers 50 --seed 1 "$@"
