"""Samplers and schedulers by name (plain dicts of factories, one lookup message), and the
scheduler that keeps one of them per study."""

from __future__ import annotations

import importlib.util

import optuna
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, HyperBandScheduler, MedianStoppingRule, TrialScheduler

from dabs_lib.experiment import BASELINE, FINAL, STUDY, TRIAL_NUMBER, split_study
from dabs_lib.registry import lookup
from ray.tune.execution.tune_controller import TuneController
from ray.tune.experiment import Trial
from typing import Any


def _cmaes(seed: int) -> optuna.samplers.BaseSampler:
    if importlib.util.find_spec("cmaes") is None:
        raise ValueError("sampler 'cmaes' needs the `cmaes` package: pip install cmaes")
    return optuna.samplers.CmaEsSampler(seed=seed)


# Explicit samplers with explicit settings, so behaviour does not drift between Optuna releases.
SAMPLERS = {
    "tpe": lambda seed: optuna.samplers.TPESampler(
        seed=seed, multivariate=True, constant_liar=True, n_startup_trials=4
    ),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "gp": lambda seed: optuna.samplers.GPSampler(seed=seed, n_startup_trials=4),
    "cmaes": _cmaes,
    "nsga2": lambda seed: optuna.samplers.NSGAIISampler(seed=seed, population_size=8),
}

# Each factory takes max_t (evaluations in a full-budget trial) and the ASHA knobs.
SCHEDULERS = {
    "asha": lambda max_t, grace, rf: ASHAScheduler(
        time_attr="training_iteration", max_t=max_t, grace_period=min(grace, max_t), reduction_factor=rf
    ),
    "hyperband": lambda max_t, grace, rf: HyperBandScheduler(
        time_attr="training_iteration", max_t=max_t, reduction_factor=rf
    ),
    "median": lambda max_t, grace, rf: MedianStoppingRule(
        time_attr="training_iteration", grace_period=min(grace, max_t), min_samples_required=2
    ),
    "fifo": lambda max_t, grace, rf: FIFOScheduler(),
}

REFUSED_SCHEDULERS = {
    "pbt": "PBT mutates running trials and refuses any search algorithm; use asha, hyperband, median or fifo",
    "pb2": "PB2 mutates running trials and refuses any search algorithm; use asha, hyperband, median or fifo",
}


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    return lookup(SAMPLERS, name, "sampler")(seed)


def make_scheduler(name: str, max_t: int, grace_period: int = 1, reduction_factor: int = 2) -> TrialScheduler:
    if name in REFUSED_SCHEDULERS:
        raise ValueError(f"scheduler {name!r} cannot be combined with the Optuna searcher: {REFUSED_SCHEDULERS[name]}")
    return lookup(SCHEDULERS, name, "scheduler")(max_t, grace_period, reduction_factor)


class _StudyView:
    """The Tune controller as one study's scheduler sees it: only that study's trials (or the
    given ones, already filtered)."""

    def __init__(self, controller: TuneController, name: str, trials: list[Trial] | None = None) -> None:
        self._controller, self._name, self._trials = controller, name, trials

    def get_trials(self) -> list[Trial]:
        if self._trials is not None:
            return self._trials
        return [t for t in self._controller.get_trials() if trial_study(t) == self._name]

    def __getattr__(self, item: str) -> Any:
        return getattr(self._controller, item)


STARTABLE = (Trial.PENDING, Trial.PAUSED)  # what a scheduler's choose_trial_to_run may return


def trial_study(trial: Trial) -> str:
    return str(trial.config.get(STUDY, ""))


class PerStudyScheduler(TrialScheduler):
    """One scheduler (ASHA, HyperBand, median, FIFO) per study, chosen by the trial's
    `study` key: rungs and medians never compare scores of different domains.

    A trial the searcher marks as a --warm-start configuration (`mark_warm`) runs its full budget
    unless `prune_warm`: its study's scheduler (ASHA, the median rule) records its scores (they set
    later cut-offs) but a STOP is not obeyed: a configuration chosen for its final score on another
    domain is judged by its final score here (ASHA's first rung had cut the transferred
    configurations that went on to the best score of every sensor search: BENCHMARKS.md, "Three
    domains, three search seeds"). HyperBand's synchronous brackets stop and pause their trials
    together, so there a warm configuration is judged like any other."""

    def __init__(
        self,
        name: str,
        max_t: dict[str, int],
        grace_period: int = 1,
        reduction_factor: int = 2,
        shared: dict[str, tuple[str, ...]] | None = None,
        prune_warm: bool = False,
    ):
        super().__init__()
        self._prune_warm = prune_warm
        self._warm: set[tuple[str, int]] = set()  # (study, trial number) of --warm-start configurations
        self._shared = dict(shared or {})  # cross-domain study -> its domains (early stopping on the aggregate)
        self._baselines: dict[str, float] = {}  # domain -> random-init score, for the shared studies' aggregate
        make_scheduler(name, 1)  # refuse an unknown or refused name now, not at the first trial
        self._name, self._max_t = name, dict(max_t)
        self._grace, self._rf = grace_period, reduction_factor
        self._metric = self._mode = None
        self._subs: dict[str, TrialScheduler] = {}
        self._added: dict[str, int] = {}  # trial id -> the order Tune added it (its creation order)
        self._supports_buffered_results = name != "hyperband"  # HyperBand pauses trials in step

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Tune pickles the scheduler with the experiment; one written by an older release lacks `_added`."""
        self.__dict__.update({"_added": {}, "_warm": set(), "_prune_warm": False, **state})

    def mark_warm(self, study: str, number: int) -> None:
        """The searcher's word that trial `number` of `study` is a --warm-start configuration."""
        self._warm.add((study, number))

    def _keeps(self, trial: Trial, result: dict[str, Any]) -> bool:
        """Whether a STOP for this trial is overruled: a warm configuration short of its final report."""
        if self._prune_warm or result.get(FINAL) or self._name == "hyperband":  # its brackets stop trials together
            return False
        return (trial_study(trial), int(trial.config.get(TRIAL_NUMBER, -1))) in self._warm

    def set_search_properties(self, metric: str | None, mode: str | None, **spec: Any) -> bool:
        self._metric, self._mode = metric or self._metric, mode or self._mode
        return all(sub.set_search_properties(metric, mode, **spec) for sub in self._subs.values())

    def scheduler_for(self, name: str) -> TrialScheduler:
        if name not in self._subs and name in self._shared and self._name == "asha":
            from trainables.shared_scheduler import SharedASHA

            self._subs[name] = SharedASHA(
                self._shared[name], self._baselines, self._max_t.get(name, 1), self._grace, self._rf, self._metric
            )
        if name not in self._subs:
            sub = make_scheduler(self._name, self._max_t.get(name, 1), self._grace, self._rf)
            if self._metric or self._mode:
                sub.set_search_properties(self._metric, self._mode)
            self._subs[name] = sub
        return self._subs[name]

    def _route(self, controller: TuneController, trial: Trial) -> tuple[TrialScheduler, _StudyView]:
        name = trial_study(trial)
        return self.scheduler_for(name), _StudyView(controller, name)

    def on_trial_add(self, tune_controller: TuneController, trial: Trial) -> None:
        self._added.setdefault(trial.trial_id, len(self._added))  # Tune adds in its list's order
        sub, view = self._route(tune_controller, trial)
        sub.on_trial_add(view, trial)

    def on_trial_error(self, tune_controller: TuneController, trial: Trial) -> None:
        sub, view = self._route(tune_controller, trial)
        sub.on_trial_error(view, trial)

    def on_trial_result(self, tune_controller: TuneController, trial: Trial, result: dict[str, Any]) -> str:
        domain, objective = split_study(trial_study(trial))
        if objective == BASELINE and self._metric and result.get(self._metric) is not None:
            self._baselines[domain] = float(result[self._metric])  # random init does not train: one score
        sub, view = self._route(tune_controller, trial)
        decision = sub.on_trial_result(view, trial, result)
        return TrialScheduler.CONTINUE if decision == TrialScheduler.STOP and self._keeps(trial, result) else decision

    def on_trial_complete(self, tune_controller: TuneController, trial: Trial, result: dict[str, Any]) -> None:
        sub, view = self._route(tune_controller, trial)
        sub.on_trial_complete(view, trial, result)

    def on_trial_remove(self, tune_controller: TuneController, trial: Trial) -> None:
        sub, view = self._route(tune_controller, trial)
        sub.on_trial_remove(view, trial)

    def choose_trial_to_run(self, tune_controller: TuneController) -> Trial | None:
        """Each study's own choice; of those, the trial Tune created first (fair across studies).
        Tune calls this every step, so it reads only Tune's live trials (its set of those not
        terminated, which schedulers may read), keeping those that can start (pending or paused):
        all that a FIFO-based scheduler's choice looks at (HyperBand chooses from its own
        brackets), in the order Tune created them. Filtering Tune's whole list per study made a
        step cost studies x trials (31 s of the driver's time in a 192-trial, 48-study run,
        bench/engine_scale.py); one pass over the whole list still grew with every trial ever run."""
        startable: dict[str, list[Trial]] = {}
        for trial in tune_controller.get_live_trials():
            if trial.status in STARTABLE:
                startable.setdefault(trial_study(trial), []).append(trial)
        for trials in startable.values():
            trials.sort(key=self._rank)
        chosen = [
            sub.choose_trial_to_run(_StudyView(tune_controller, name, startable.get(name, [])))
            for name, sub in self._subs.items()
        ]
        return min((t for t in chosen if t is not None), key=self._rank, default=None)

    def _rank(self, trial: Trial) -> int:
        return self._added.get(trial.trial_id, len(self._added))

    def debug_string(self) -> str:
        return f"{self._name} per study ({len(self._subs)} studies)"

    def get_state(self) -> dict[str, Any] | None:
        """What a resume restores: ASHA's rungs (keyed by trial id). HyperBand and the median
        rule keep Trial objects, which do not survive a restore: they start afresh."""
        subs = dict(self._subs) if self._name in ("asha", "fifo") else {}
        return {"subs": subs, "baselines": self._baselines, "warm": set(self._warm)}

    def set_state(self, state: dict[str, Any] | None) -> None:
        if state:
            self._subs.update(state["subs"])
            self._baselines = state.get("baselines", self._baselines)  # the same dict the shared subs hold
            self._warm |= state.get("warm", set())
