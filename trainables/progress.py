"""One readable line per trial event instead of Ray's wide status tables, an overall line every
`every_s` seconds (and at the end), and each warning the trials' code logged, once."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter

from ray.tune import Callback

from dabs_lib import trial_warnings
from dabs_lib.experiment import BASELINE, FINAL, METRIC, STEP, STUDY, error_line, is_shared, shared_study_name
from dabs_lib.status import STATES, duration as _duration  # the overall line's counts, in this order
from ray.tune.experiment import Trial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ray.tune import Stopper

SUMMARY_EVERY_S = 30.0
SUMMARY_EVERY_ENV = "DABS_TUNE_PROGRESS_EVERY_S"  # seconds between overall lines


def trial_state(trial: Trial, ended: set[str] | None = None) -> str:
    """finished (full budget), pruned (stopped early by the scheduler), errored, running, or pending.
    `ended`: the trials Tune reported complete; one it stopped without saying so was stopped by an
    interrupt (Tune stops every live trial when it ends), and a resume continues it: running, not pruned."""
    if trial.status == "TERMINATED":
        if (trial.last_result or {}).get(FINAL):
            return "finished"
        return "pruned" if ended is None or trial.trial_id in ended else "running"
    return {"ERROR": "errored", "RUNNING": "running"}.get(trial.status, "pending")


def _study(trial: Trial) -> str:
    objective = trial.config.get("objective", "?")
    if is_shared(str(trial.config.get(STUDY, ""))):
        objective = shared_study_name(objective)  # a cross-domain study's trial: digits/shared-mae
    return f"{trial.config.get('domain', '?')}/{objective}"


Row = tuple[str, str, float, bool]  # a trial as the overall line counts it: study, state, seconds, searched


def trial_row(trial: Trial, completed: set[str] | None = None, state: str = "") -> Row:
    """`state`: what the trial is known to be now (a callback runs before Tune sets the status)."""
    seconds = float((trial.last_result or {}).get("time_total_s", 0.0))
    # random-init baselines only probe (seconds): they would make the first ETAs far too short
    searched = trial.config.get("objective") != BASELINE
    return _study(trial), state or trial_state(trial, completed), seconds, searched


def overall_line(
    trials: list[Trial],
    total: int,
    elapsed: float,
    completed: set[str] | None = None,
    ended: dict[str, Row] | None = None,
) -> str:
    """Counts per study and in total, and an ETA from the measured seconds of the trials that ended.
    `ended`: trials that ended earlier (by trial id), for those Tune's trial list no longer holds."""
    rows = {trial.trial_id: trial_row(trial, completed) for trial in trials}
    rows = {**(ended or {}), **rows}
    per_study: dict[str, Counter[str]] = {}
    for study, state, _, _ in rows.values():
        per_study.setdefault(study, Counter())[state] += 1
    counts = sum(per_study.values(), Counter())
    done = [row for row in rows.values() if row[1] in ("finished", "pruned")]
    searched = [row for row in done if row[3]] or done
    left = max(total, len(rows)) - counts["finished"] - counts["pruned"] - counts["errored"]
    if not done:
        eta = "ETA after the first trial ends"
    else:
        mean = sum(row[2] for row in searched) / len(searched)
        eta = f"ETA {_duration(left * mean / max(1, counts['running']))}"
    total_text = ", ".join(f"{counts[s]} {s}" for s in STATES)
    studies = " ".join(f"{name} {'/'.join(str(c[s]) for s in STATES)}" for name, c in sorted(per_study.items()))
    return (
        f"overall: {total_text} of {max(total, len(rows))} trials; elapsed {_duration(elapsed)}, {eta} | "
        f"{studies} ({'/'.join(STATES)})"
    )


class ProgressPrinter(Callback):
    def __init__(self, every_s: float = 0.0, total: int = 0) -> None:
        """`total`: trials the run will hold, when Tune cannot tell (a searcher with num_samples=-1)."""
        self.best: dict[str, float] = {}  # per study; no stream kept: Tune pickles callbacks with its state
        self.every_s = every_s or float(os.environ.get(SUMMARY_EVERY_ENV) or SUMMARY_EVERY_S)
        self.warned: set[str] = set()
        self.completed: set[str] = set()  # trial ids Tune reported complete (an interrupt stops others silently)
        # Every trial that ended, as the overall line counts it: a resume sets the finished ones
        # aside from Tune's trial list (trainables/tune_state.py), and they still count.
        self.ended: dict[str, Row] = {}
        self.total = total
        self.start = self.last_summary = time.perf_counter()

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Tune pickles callbacks with the experiment; one written by an older release lacks fields."""
        self.__init__()
        self.__dict__.update({k: v for k, v in state.items() if type(v) is type(getattr(self, k, v))})

    def get_state(self) -> dict[str, Any]:
        """What Tune saves with each experiment snapshot and gives back on resume: without it a
        resumed search counted every trial the scheduler had stopped before the interrupt as running
        (this object is otherwise restored as it was pickled when the search started)."""
        return {
            "completed": list(self.completed),
            "best": dict(self.best),
            "warned": list(self.warned),
            "ended": dict(self.ended),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.completed.update(state.get("completed", ()))
        self.ended.update(state.get("ended", {}))
        self.best.update(state.get("best", {}))
        self.warned.update(state.get("warned", ()))

    def setup(
        self,
        stop: Stopper | None = None,
        num_samples: int | None = None,
        total_num_samples: int | None = None,
        **info: object,
    ) -> None:
        if not self.total and total_num_samples and 0 < total_num_samples < sys.maxsize:  # -1: unbounded
            self.total = int(total_num_samples)
        self.start = self.last_summary = time.perf_counter()  # again after a resume: a new process

    def _say(self, study: str, text: str) -> None:
        elapsed = time.perf_counter() - self.start
        print(f"[{elapsed:6.1f}s] {study:<18} {text}", file=sys.stdout, flush=True)

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict[str, Any], **info: object
    ) -> None:
        study = _study(trial)
        for line in trial_warnings.split([result]):
            if line not in self.warned:
                self.warned.add(line)
                self._say(study, f"WARNING {line}")
        value = result.get(METRIC)
        if value is None or result.get("diverged"):
            return
        self.best[study] = best = max(self.best.get(study, float("-inf")), value)
        self._say(study, f"{trial} step {result.get(STEP, 0):>5}  {METRIC} {value:.4f}  (best {best:.4f})")

    def on_trial_complete(self, iteration: int, trials: list[Trial], trial: Trial, **info: object) -> None:
        self.completed.add(trial.trial_id)
        last = trial.last_result or {}
        self.ended[trial.trial_id] = trial_row(trial, state="finished" if last.get(FINAL) else "pruned")
        how = "finished" if last.get(FINAL) else "stopped early by the scheduler"
        if last.get("diverged"):
            how = f"stopped: {last['diverged']}"
        self._say(_study(trial), f"{trial} {how}")

    def on_trial_error(self, iteration: int, trials: list[Trial], trial: Trial, **info: object) -> None:
        """One line: the trial, its error's last line, and the file with the whole traceback."""
        self.ended[trial.trial_id] = trial_row(trial, state="errored")
        staged = os.path.join(str(trial.local_path or trial.path), "error.txt")  # Ray's session folder
        path = os.path.join(str(trial.path or trial.local_path), "error.txt")  # the experiment's, where it is kept
        try:
            with open(staged) as stream:
                last = error_line(stream.read())
        except OSError:
            last = ""
        self._say(_study(trial), f"{trial} ERRORED: {last or 'see the traceback'} (traceback: {path})")

    def on_step_end(self, iteration: int, trials: list[Trial], **info: object) -> None:
        now = time.perf_counter()
        if now - self.last_summary >= self.every_s:
            self.last_summary = now
            self._say("", overall_line(trials, self.total, now - self.start, self.completed, self.ended))

    def on_experiment_end(self, trials: list[Trial], **info: object) -> None:
        elapsed = time.perf_counter() - self.start
        self._say("", overall_line(trials, self.total, elapsed, self.completed, self.ended))
