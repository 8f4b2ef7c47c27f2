"""One readable line per trial event instead of Ray's wide status tables."""
from __future__ import annotations

import sys
import time

from ray.tune import Callback


class ProgressPrinter(Callback):
    def __init__(self, domain: str, objective: str):
        self.label = f"{domain}/{objective}"  # no stream kept: Tune pickles callbacks with its state
        self.best = float("-inf")
        self.start = time.perf_counter()

    def _say(self, text: str) -> None:
        elapsed = time.perf_counter() - self.start
        print(f"[{elapsed:6.1f}s] {self.label:<18} {text}", file=sys.stdout, flush=True)

    def on_trial_result(self, iteration, trials, trial, result, **info):
        value = result.get("transfer/val")
        if value is None:
            return
        self.best = max(self.best, value)
        self._say(f"{trial} step {result.get('step', 0):>5}  transfer/val {value:.4f}  (best {self.best:.4f})")

    def on_trial_complete(self, iteration, trials, trial, **info):
        last = trial.last_result or {}
        how = "finished" if last.get("final") else "stopped early by the scheduler"
        self._say(f"{trial} {how}")

    def on_trial_error(self, iteration, trials, trial, **info):
        self._say(f"{trial} ERRORED: see {trial.path}/error.txt")
