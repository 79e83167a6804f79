"""Tests of the ECS simulator (``ecs_notebook.simulator``)."""
