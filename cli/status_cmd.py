"""`status EXPERIMENT`: per study trials finished/running/pruned/errored, best score, elapsed and ETA.

Reads the experiment's manifest and Optuna journal only (no Ray, no torch), so it answers while the
search runs in another process and after it ended. `--watch` reprints every `--interval` seconds
until the search stops running (or Ctrl-C).
"""

from __future__ import annotations

import argparse
import math
import sys
import time

from cli.errors import UserError

WATCH_INTERVAL_S = 5.0  # --interval's default


def check_interval(value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise UserError(f"--interval must be a positive number of seconds, but got {value:g}")


def render(experiment: str) -> tuple[str, bool]:
    """The status text, and whether the search is still running."""
    from dabs_lib.experiment import ExperimentError
    from dabs_lib.safe_io import CorruptFileError
    from dabs_lib.status import read_status, status_lines

    try:
        status = read_status(experiment)
    except (ExperimentError, CorruptFileError) as error:
        raise UserError(str(error)) from None
    return "\n".join(status_lines(status)), status.status == "running"


def cmd_status(args: argparse.Namespace) -> int:
    check_interval(args.interval)
    text, running = render(args.experiment)
    print(text, flush=True)
    clear = sys.stdout.isatty()
    try:
        while args.watch and running:
            time.sleep(args.interval)
            text, running = render(args.experiment)
            print(("\033[2J\033[H" if clear else "\n") + text, flush=True)
    except KeyboardInterrupt:
        pass  # watching only: nothing to stop or resume
    return 0
