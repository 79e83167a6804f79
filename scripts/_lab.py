"""Start JupyterLab without warnings that say nothing to the user.

Voila's package turns traitlets' DeprecationWarnings on for everyone
(``voila/__init__.py``): jupyter-server's own deprecated ``ServerApp.token`` default and
jupyter-lsp's trait declarations then print warnings at every start. Import voila first,
then put Python's default back: DeprecationWarnings raised inside traitlets stay silent.
"""

from __future__ import annotations

import sys
import warnings

import voila  # noqa: F401 - installs its warning filter first

warnings.filterwarnings("ignore", category=DeprecationWarning, module="traitlets")

from jupyterlab.labapp import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
