"""One readable line per trial event instead of Ray's wide status tables."""
from __future__ import annotations

import sys
import time

from ray.tune import Callback

from dabs_lib.experiment import FINAL, METRIC, STEP, STUDY, split_study


class ProgressPrinter(Callback):
    def __init__(self):
        self.best: dict[str, float] = {}  # per study; no stream kept: Tune pickles callbacks with its state
        self.start = time.perf_counter()

    def _say(self, trial, text: str) -> None:
        elapsed = time.perf_counter() - self.start
        label = "/".join(split_study(str(trial.config.get(STUDY, ""))))
        print(f"[{elapsed:6.1f}s] {label:<18} {text}", file=sys.stdout, flush=True)

    def on_trial_result(self, iteration, trials, trial, result, **info):
        value = result.get(METRIC)
        if value is None or result.get("diverged"):
            return
        study = str(trial.config.get(STUDY, ""))
        self.best[study] = best = max(self.best.get(study, float("-inf")), value)
        self._say(trial, f"{trial} step {result.get(STEP, 0):>5}  {METRIC} {value:.4f}  (best {best:.4f})")

    def on_trial_complete(self, iteration, trials, trial, **info):
        last = trial.last_result or {}
        how = "finished" if last.get(FINAL) else "stopped early by the scheduler"
        if last.get("diverged"):
            how = f"stopped: {last['diverged']}"
        self._say(trial, f"{trial} {how}")

    def on_trial_error(self, iteration, trials, trial, **info):
        self._say(trial, f"{trial} ERRORED: see {trial.path}/error.txt")
