"""The `pretrain_transfer` trainable: pretrain, probe every `eval_every` steps, report to Tune.

Thin by design: the trial config becomes a PretrainConfig, dabs_lib does the work, and
this file only reports. Each report carries a checkpoint (Lightning trainer state +
encoder) so a trial resumes from `ray.tune.get_checkpoint()`. The last report (at
`max_steps`) also carries the test-split scores of every transfer task of the domain
and `final: True`; a trial that ends without it was stopped early by the scheduler.

Lightning is imported only by trials that train (`trainables.reporter`): the random-init
baseline spares its fresh Ray worker about 10 s of imports, and the driver, which imports
this module to build the Tuner, too.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from ray import tune
from ray.tune.result import TIMESTEPS_TOTAL

from dabs_lib.checkpoints import save_encoder
from dabs_lib.config import PretrainConfig, effective_config
from dabs_lib.divergence import DIVERGED_KEY, Diverged
from dabs_lib.domains import get_domain
from dabs_lib.experiment import ENCODER_FILE, FINAL, METRIC, PARAMS, SECONDS, STATE_FILE, STEP, TRAINER_CKPT
from dabs_lib.experiment import TrialSettings, probe_protocol
from dabs_lib.initial import initial_encoder
from dabs_lib.objectives import OBJECTIVES
from dabs_lib.registry import lookup
from dabs_lib.safe_io import CorruptFileError, check_zip, parse_json
from dabs_lib.transfer import probe_val
from trainables.scores import final_scores, parameter_count
from trainables.settings import split_trial_config
from trainables.worker import report_extras, start_trial

CHECKPOINT_FIX = (
    "The trial cannot continue from it and stays errored; restore the file from a copy of the "
    "experiment and resume again"
)


def _restore() -> tuple[Path | None, float, tempfile.TemporaryDirectory[str] | None]:
    checkpoint = tune.get_checkpoint()
    if checkpoint is None:
        return None, 0.0, None
    holder = tempfile.TemporaryDirectory()
    local = Path(checkpoint.to_directory(holder.name))
    stored = f"{checkpoint.path.rstrip('/')}/"  # name the experiment's file, not this worker's copy
    state = parse_json((local / STATE_FILE).read_bytes(), stored + STATE_FILE, CHECKPOINT_FIX, "the trial's state")
    if not isinstance(state, dict) or not isinstance(state.get(SECONDS), (int, float)):
        raise CorruptFileError(stored + STATE_FILE, f'it must hold {{"{SECONDS}": <number>, ...}}', CHECKPOINT_FIX)
    check_zip(local / TRAINER_CKPT, stored + TRAINER_CKPT, CHECKPOINT_FIX)  # never resume from half a file
    return local / TRAINER_CKPT, state[SECONDS], holder


def evaluate_random_init(config: PretrainConfig, settings: TrialSettings) -> None:
    """`none` never trains: build the seeded initial encoder, evaluate it once, report."""
    start = time.perf_counter()
    config = effective_config(config)
    domain = get_domain(config.domain, seed=config.data_seed, data_root=config.data_root, smoke=config.smoke_test)
    encoder = initial_encoder(config, domain).eval()
    protocol = probe_protocol(settings)
    val = probe_val(encoder, domain.tasks[domain.default_task], protocol).val_score
    # TIMESTEPS_TOTAL 0: TensorBoard draws the never-trained baseline at step 0, not at Tune's iteration 1
    metrics = {
        METRIC: float(val),
        STEP: 0,
        TIMESTEPS_TOTAL: 0,
        FINAL: True,
        PARAMS: parameter_count(encoder),
        **final_scores(encoder, config, protocol),
        **report_extras(),
    }
    metrics[SECONDS] = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        save_encoder(Path(tmp) / ENCODER_FILE, encoder, {"config": config.to_dict(), "steps": 0})
        tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(tmp))


def pretrain_transfer(trial_config: dict[str, Any]) -> None:
    start_trial()
    config, settings = split_trial_config(trial_config)
    if not lookup(OBJECTIVES, config.objective, "objective").trains:
        evaluate_random_init(config, settings)
        return
    from dabs_lib.pretrain import pretrain  # Lightning: only trials that train pay its imports
    from trainables.reporter import TuneReporter

    resume_from, seconds_before, holder = _restore()
    output_dir = Path.cwd() / "lightning"  # the trial's own folder; synced to storage with artifacts
    reporter = TuneReporter(config, settings, seconds_before)
    try:
        pretrain(
            config,
            output_dir=output_dir,
            callbacks=[reporter],
            resume_from=resume_from,
            steps_per_epoch=settings.eval_every,
        )
    except Diverged as error:
        report_divergence(error, reporter.start)
    finally:
        if holder is not None:
            holder.cleanup()


def report_divergence(error: Diverged, start: float) -> None:
    """The trial's last report: `diverged` carries the reason and the metric is NaN (what it
    is), so the searcher records the trial with its reason and the search goes on. Ending
    normally, not by raising: divergence is deterministic, and a retry would only repeat it."""
    print(f"trial stopped: {error.reason}", flush=True)
    tune.report(
        {
            METRIC: float("nan"),
            STEP: max(error.step, 0),
            DIVERGED_KEY: error.reason,
            SECONDS: time.perf_counter() - start,
        }
    )
