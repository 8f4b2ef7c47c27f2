"""One search of the efficiency bench: an Optuna ask/tell loop over Ray-free trials.

A trial is `dabs_lib.pretrain` with a callback that runs the project's validation probe
(`probe_val`, the ProbeProtocol's wide L2 path) every `eval_every` steps, reports it to the
Optuna trial and stops training when the pruner (ASHA = Optuna's asynchronous successive
halving) says so. The loop stops starting trials once the search has spent its budget of
optimizer steps; every trial's steps and seconds are recorded, so "equal compute" is exact
in steps and measured in seconds. Ray is left out on purpose: on a shared 2-core machine
its worker start-up would be a large, noisy share of each tiny search, and the budget
could not be cut at an exact step count.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import lightning as L
import optuna

from dabs_lib.config import config_from_dict
from dabs_lib.domains import get_domain
from dabs_lib.pretrain import pretrain
from dabs_lib.transfer import ProbeProtocol, evaluate_transfer, probe_val
from search_spaces import TRIAL_KEYS, SearchSpace, default_point

# method -> (sampler name in trainables.schedulers.SAMPLERS, prune with ASHA)
METHODS = {
    "random": ("random", False),
    "tpe": ("tpe", False),
    "tpe_asha": ("tpe", True),
    "gp": ("gp", False),
}
ASHA_REDUCTION = 3  # keep the top third at each rung (rungs at 1 and 3 evaluations)


@dataclass
class TrialRecord:
    number: int
    params: dict[str, Any]
    state: str  # "complete" or "pruned"
    steps: int  # optimizer steps this trial ran
    seconds: float  # wall seconds: pretraining, probes and (complete trials) the test score
    val: float  # validation score at the last evaluation
    test: float  # test score of the default task, own seed (NaN when pruned)
    end_steps: int = 0  # the search's cumulative steps when this trial ended
    end_seconds: float = 0.0  # the search's cumulative seconds when this trial ended


@dataclass
class SearchRecord:
    domain: str
    objective: str
    method: str
    seed: int
    budget_steps: int
    trials: list[TrialRecord] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


class ProbeEvaluator(L.Callback):
    """Probe at each epoch end (= every `eval_every` steps); report to Optuna; prune."""

    def __init__(self, task, protocol: ProbeProtocol, trial: optuna.Trial | None, max_steps: int):
        self.task, self.protocol, self.trial, self.max_steps = task, protocol, trial, max_steps
        self.history: list[tuple[int, float]] = []
        self.pruned = False

    def on_train_epoch_end(self, trainer: L.Trainer, system: L.LightningModule) -> None:
        step, encoder = trainer.global_step, system.encoder
        was_training = encoder.training
        value = probe_val(encoder, self.task, self.protocol).val_score
        encoder.train(was_training)
        self.history.append((step, float(value)))
        if self.trial is None or step >= self.max_steps:
            return
        self.trial.report(float(value), step)
        if self.trial.should_prune():
            self.pruned = True
            trainer.should_stop = True


def flat_config(space: SearchSpace, params: dict[str, Any], seed: int) -> dict[str, Any]:
    return {**space.fixed, **default_point(space), **params, "seed": seed}


def run_trial(flat: dict[str, Any], trial: optuna.Trial | None = None) -> TrialRecord:
    """Pretrain `flat` with probes every eval_every steps; test score only when it completes."""
    start = time.perf_counter()
    config = config_from_dict({k: v for k, v in flat.items() if k not in TRIAL_KEYS}, "bench")
    domain = get_domain(config.domain, seed=config.data_seed, smoke=config.smoke_test)
    task = domain.tasks[domain.default_task]
    protocol = ProbeProtocol()  # the one owner of the L2 path: never searched
    evaluator = ProbeEvaluator(task, protocol, trial, config.max_steps)
    with tempfile.TemporaryDirectory() as folder:
        result = pretrain(config, folder, callbacks=[evaluator], steps_per_epoch=int(flat["eval_every"]), logger=False)
    val = evaluator.history[-1][1] if evaluator.history else math.nan
    test = math.nan
    if not evaluator.pruned:
        test = evaluate_transfer(result.encoder, task, protocol, cache_dir=None).score
    return TrialRecord(
        trial.number if trial else 0,
        {},
        "pruned" if evaluator.pruned else "complete",
        result.steps,
        time.perf_counter() - start,
        val,
        test,
    )


def distributions(space: SearchSpace) -> dict[str, optuna.distributions.BaseDistribution]:
    """The same Optuna distributions the product's searcher builds (via Tune's converter)."""
    from ray.tune.search.optuna import OptunaSearch

    from search_spaces import to_tune

    return OptunaSearch.convert_search_space({n: v for n, v in to_tune(space).items() if n in space.search})


def run_search(space: SearchSpace, method: str, seed: int, budget_steps: int) -> SearchRecord:
    """Ask/tell until `budget_steps` optimizer steps are spent; the DABS default goes first."""
    from trainables.schedulers import make_sampler  # the product's samplers, same settings

    sampler_name, asha = METHODS[method]
    pruner = (
        optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=ASHA_REDUCTION)
        if asha
        else optuna.pruners.NopPruner()
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=make_sampler(sampler_name, seed), pruner=pruner)
    study.enqueue_trial(default_point(space))
    dists = distributions(space)
    record = SearchRecord(space.domain, space.objective, method, seed, budget_steps)
    steps = seconds = 0
    while steps < budget_steps:
        trial = study.ask(dists)
        params = dict(trial.params)
        done = run_trial(flat_config(space, params, seed), _ReportStep(trial, int(space.fixed["eval_every"])))
        done.params, done.number = params, trial.number
        steps, seconds = steps + done.steps, seconds + done.seconds
        done.end_steps, done.end_seconds = steps, seconds
        record.trials.append(done)
        if done.state == "pruned":
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, done.val)
    return record


class _ReportStep:
    """An Optuna trial whose `report` step counts evaluations (1, 2, 3, ...), not optimizer
    steps, so ASHA's rungs (min_resource=1, x3) fall at the 1st and 3rd evaluation."""

    def __init__(self, trial: optuna.Trial, eval_every: int, keep: bool = False):
        self.trial, self.eval_every, self.keep = trial, eval_every, keep  # keep: report, never prune
        self.number = trial.number

    def report(self, value: float, step: int) -> None:
        self.trial.report(value, step // self.eval_every)

    def should_prune(self) -> bool:
        return not self.keep and self.trial.should_prune()
