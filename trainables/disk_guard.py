"""Stop a search cleanly before (or as soon as) its storage fills up, with one line saying
where and how much space is needed; `resume` then continues it once space is freed.

Checked after every result, when a trial has just persisted a checkpoint: the space needed
next is what one more round of checkpoints takes (the largest checkpoint seen so far, once
per running trial) plus a margin for the manifest, study and Tune's own state. A trial that
errors with "No space left on device" stops the search the same way, instead of being
recorded as failed: the trial did nothing wrong, and resume retries it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ray.tune import Callback

from dabs_lib.safe_io import SPACE_MARGIN as MARGIN
from dabs_lib.safe_io import DiskFullError, free_bytes
from ray.tune.experiment import Trial


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


class DiskGuard(Callback):
    def __init__(self, storage: str | None, margin: int = MARGIN) -> None:
        self.storage = storage  # local experiment folder; None for cloud storage (not checked)
        self.margin = margin
        self.largest = 0
        self.running: set[str] = set()  # trial ids started and not yet ended: who writes checkpoints next

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Tune pickles callbacks with the experiment; one written by an older release lacks `running`."""
        self.__init__(state.get("storage"))  # type: ignore[misc]
        self.__dict__.update(state)

    def needed(self, live_trials: int) -> int:
        return self.largest * max(1, live_trials) + self.margin

    def on_trial_start(self, iteration: int, trials: list[Trial], trial: Trial, **info: object) -> None:
        self.running.add(trial.trial_id)

    def on_trial_complete(self, iteration: int, trials: list[Trial], trial: Trial, **info: object) -> None:
        self.running.discard(trial.trial_id)

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict[str, Any], **info: object
    ) -> None:
        if self.storage is None:
            return
        latest = trial.checkpoint.path if trial.checkpoint is not None else None
        if latest and Path(latest).is_dir():
            self.largest = max(self.largest, _folder_bytes(Path(latest)))
        # counted as trials start and end: counting Tune's list here cost every result a pass over
        # every trial ever run (bench/engine_scale.py)
        live = max(len(self.running), 1)
        if free_bytes(self.storage) < self.needed(live):
            raise DiskFullError(self.storage, self.needed(live))

    def on_trial_recover(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: object
    ) -> None:  # a failure Tune retries (--max-failures)
        self.on_trial_error(iteration, trials, trial, **info)

    def on_trial_error(self, iteration: int, trials: list[Trial], trial: Trial, **info: object) -> None:
        self.running.discard(trial.trial_id)
        if self.storage is None:
            return
        error_file = Path(trial.error_file) if trial.error_file else None
        try:
            text = error_file.read_text(errors="replace") if error_file else ""
        except OSError:
            text = ""
        # an empty error.txt is what a full disk leaves when Tune itself cannot write the error
        if "No space left on device" in text or (not text.strip() and free_bytes(self.storage) < self.margin):
            raise DiskFullError(self.storage, self.needed(1))
