"""How the user runs dabs-tune, so every message and written file names a command they have.

`dabs-tune` once installed (pip), `python run_search.py` from a checkout. Called from Python
(the API, a notebook, a Ray worker) argv[0] is another program's: a checkout's working directory
holds run_search.py, anything else is an installed user.
"""

from __future__ import annotations

import sys
from pathlib import Path

DISTRIBUTION = "dabs-tune"  # the name pyproject.toml gives the package (and its command)
SCRIPT = "run_search.py"  # the checkout's entry point


def invoked_name() -> str:
    """`dabs-tune` or `run_search.py`: the program name help, usage and error lines show."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    if name in (DISTRIBUTION, SCRIPT):
        return name
    return SCRIPT if Path(SCRIPT).is_file() else DISTRIBUTION


def command(arguments: str) -> str:
    """What to type for `arguments`: `dabs-tune resume X` or `python run_search.py resume X`."""
    name = invoked_name()
    return f"{'python ' if name == SCRIPT else ''}{name} {arguments}"
