"""A trial's `result.json` reaches the experiment folder before its study is told it finished.

Tune writes `result.json` into a staging folder under Ray's session and copies that folder to
the storage path only now and then, in a background thread. The Optuna journal is written
straight to the storage path. So a driver killed just after a trial's study was told COMPLETE
left a journal that named a finished trial whose final report was not on disk: `status` and
`analyze` on the killed experiment disagreed with the journal until a resume re-ran the trial.

`ResultMirror` runs after Tune's JSON logger on every result that ends a trial (its final report,
or a scheduler's stop): it waits for Tune's background copy (so an older copy cannot land on
top of it), then writes the trial's `result.json` to the storage path atomically. The searcher
tells the study later, when the trial's function returns, so the file is always there first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ray.air.constants import EXPR_RESULT_FILE
from ray.tune import Callback
from ray.tune.experiment import Trial
from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback
from ray.tune.result import DONE  # set on a trial's last result, or when the scheduler stops it

from dabs_lib.experiment import FINAL


def publish_result_file(trial: Trial) -> None:
    """Copy the trial's staged result.json to its folder on the storage path (a temp name, then a move)."""
    storage = trial.storage
    if storage is None:
        return
    staged = Path(storage.trial_driver_staging_path, EXPR_RESULT_FILE)
    if not staged.is_file():
        return
    storage.syncer.wait()  # Tune's own copy in flight: let it land first, ours after it
    filesystem, folder = storage.storage_filesystem, storage.trial_fs_path
    filesystem.create_dir(folder, recursive=True)
    target = f"{folder}/{EXPR_RESULT_FILE}"
    with filesystem.open_output_stream(target + ".part") as out:
        out.write(staged.read_bytes())
    filesystem.move(target + ".part", target)


class ResultMirror(Callback):
    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict[str, Any], **info: object
    ) -> None:
        if result.get(FINAL) or result.get(DONE):
            publish_result_file(trial)


def result_loggers() -> list[Callback]:
    """Tune's file loggers, then the mirror: callbacks run in this order, so the final row is
    written and flushed before it is published (Tune adds its own loggers last otherwise)."""
    return [CSVLoggerCallback(), JsonLoggerCallback(), ResultMirror()]
