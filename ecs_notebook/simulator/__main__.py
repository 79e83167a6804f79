"""``python -m ecs_notebook.simulator``: the same as ``ecs-notebook simulator``."""

from .cli import main

raise SystemExit(main())
