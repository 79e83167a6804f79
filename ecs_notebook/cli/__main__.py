"""``python -m ecs_notebook.cli``."""

import sys

from . import main

sys.exit(main())
