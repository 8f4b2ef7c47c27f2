"""Where one `resume_search` spends its time, phase by phase, for any version of the code.

Resumes a copy of a kept experiment (`bench/engine_scale.py --keep DIR` builds one) with the
light trial on a fresh simulated cluster, the code imported from `--code` (a git worktree of
another commit compares two versions on one experiment), and prints the resume's wall seconds
and those of each phase it reaches (a phase the version lacks is not printed):

    python bench/resume_phases.py /tmp/es10k/ours --code /tmp/wt_before --rounds 2
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent


def wall_clock(phases: dict[str, float]) -> Callable[[Any, str, str], None]:
    """`wrap(owner, name, label)`: add the wall seconds of every call of owner.name to phases[label]."""

    def wrap(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name, None)
        if original is None:
            return

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                phases[label] = phases.get(label, 0.0) + time.perf_counter() - start

        setattr(owner, name, timed)

    return wrap


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("experiment", help="a kept experiment (bench/engine_scale.py --keep)")
    p.add_argument("--code", default=str(HERE.parent), help="the project root whose code resumes it")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--wait", type=float, default=0.1, help="the light trial's wait per report")
    args = p.parse_args(argv)
    sys.path[:0] = [args.code, str(Path(args.code, "bench"))]
    import engine_scale
    from engine_scale_parts import WAIT_ENV, simulated_cluster
    from ray import tune

    import trainables.optuna_search as optuna_search
    import trainables.runner as runner

    os.environ[WAIT_ENV] = str(args.wait)
    phases: dict[str, float] = {}
    wrap = wall_clock(phases)
    wrap(tune.Tuner, "restore", "Tuner.restore")
    wrap(tune.Tuner, "fit", "fit")
    wrap(optuna_search.MultiStudySearcher, "restore", "searcher restore")
    wrap(runner, "finish", "finish")
    try:
        import trainables.tune_state as tune_state

        wrap(tune_state, "set_aside", "set aside")
        wrap(tune_state, "put_back", "put back")
    except ImportError:  # a version without it
        pass
    for _ in range(args.rounds):
        phases.clear()
        cluster = simulated_cluster(4, 4, 4)
        try:
            with tempfile.TemporaryDirectory() as root:
                copy = Path(root, Path(args.experiment).name)
                shutil.copytree(args.experiment, copy, symlinks=True)
                seconds = engine_scale.timed_resume(str(copy), cluster.address)
        finally:
            cluster.shutdown()
        detail = ", ".join(f"{name} {value:.2f}" for name, value in phases.items())
        print(f"resume {seconds:.2f} s ({detail}) with the code of {args.code}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
