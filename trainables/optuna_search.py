"""One Tune searcher for every study of an experiment, each an Optuna study in the experiment's journal.

`MultiStudySearcher` decides which study gets the next trial (the random-init baselines
first, then the searched study with the fewest trials, so none starves), asks that study's
own sampler (seeded from --seed, domain and objective) and routes results back:

- a study's trial 0 is the DABS default point (enqueued before its first ask);
- a trial is COMPLETE only when its last result says `final: True` (it reached its full
  budget); a trial the scheduler stopped is PRUNED with its intermediate values;
- an errored trial stays RUNNING while Tune may still retry or resume it; the runner closes
  it FAIL with its error line when the search ends (`close_open_trials`);
- after `Tuner.restore`, trials the journal holds as RUNNING that Tune does not know (asked
  after Tune's last snapshot) are closed FAIL with a reason, and every study's count is
  rebuilt from the journal, the single source of truth.
"""
from __future__ import annotations

import hashlib
import math
import pickle
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import TrialState
from ray.tune.search import Searcher

from dabs_lib.divergence import DIVERGED_KEY
from dabs_lib.experiment import BASELINE, ERROR_ATTR, FINAL, STUDY, TRIAL_NUMBER, study_name
from dabs_lib.safe_io import kill_point
from trainables.schedulers import make_sampler
from ray.tune.schedulers import TrialScheduler

_RELOCATED: list[str] = []  # set by relocate_journal before Tuner.restore


def relocate_journal(path: str) -> None:
    """Where a restored searcher finds its journal (the experiment may have been moved);
    "" forgets it, so a later searcher in the same process is not sent to this one's journal."""
    _RELOCATED[:] = [path] if path else []


ORPHAN = ("interrupted: asked after the search's last snapshot, so the resumed search "
          "could not continue it")


@dataclass(frozen=True)
class StudyPlan:
    """What one study runs: its constant config, its Optuna distributions, its default point."""

    domain: str
    objective: str
    trials: int  # trials to run (1 for a baseline)
    fixed: dict[str, Any] = field(default_factory=dict)
    distributions: dict[str, Any] = field(default_factory=dict)  # name -> optuna distribution
    default: dict[str, Any] = field(default_factory=dict)  # searched names at the DABS default

    @property
    def name(self) -> str:
        return study_name(self.domain, self.objective)

    @property
    def baseline(self) -> bool:
        return self.objective == BASELINE or not self.distributions


def study_seed(seed: int, domain: str, objective: str) -> int:
    """A study's sampler seed: stable across runs and machines (unlike hash())."""
    digest = hashlib.sha256(f"{seed}/{domain}/{objective}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def open_journal(path: str) -> optuna.storages.JournalStorage:
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(path))


class MultiStudySearcher(Searcher):
    def __init__(self, plans: list[StudyPlan], journal: str, metric: str | list[str], mode: str | list[str],
                 sampler: str = "tpe", seed: int = 0) -> None:
        super().__init__()
        self._metrics = list(metric) if isinstance(metric, list) else [metric]
        self._modes = list(mode) if isinstance(mode, list) else [mode]
        self._metric, self._mode = self._metrics[0], self._modes[0]  # what Tune reads for its warnings
        self._plans = {p.name: p for p in plans}
        self._journal, self._sampler, self._seed = journal, sampler, seed
        self._issued = dict.fromkeys(self._plans, 0)
        self._live: dict[str, tuple[str, int]] = {}  # Tune trial id -> (study, trial number)
        self._done: set[str] = set()
        self._scheduler = None  # a PerStudyScheduler whose state travels with ours
        self._open: dict[str, optuna.Study] = {}

    def attach(self, scheduler: TrialScheduler) -> None:
        """Save and restore `scheduler`'s per-study state with the searcher's (Tune saves no scheduler)."""
        self._scheduler = scheduler

    def set_search_properties(self, metric: str | None, mode: str | None, config, **spec: Any) -> bool:
        return not config  # the studies own the space: Tune's param_space must stay empty

    # -- studies ------------------------------------------------------------------------
    def study(self, name: str) -> optuna.Study:
        if name not in self._open:
            plan = self._plans[name]
            optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "A new study created" lines
            directions = ["maximize" if m == "max" else "minimize" for m in self._modes]
            self._open[name] = optuna.create_study(
                study_name=name, storage=open_journal(self._journal), load_if_exists=True,
                directions=directions, sampler=make_sampler(self._sampler, study_seed(self._seed, plan.domain,
                                                                                       plan.objective)))
        return self._open[name]

    def _next_study(self) -> str | None:
        wanting = [name for name, plan in self._plans.items() if self._issued[name] < plan.trials]
        baselines = [name for name in wanting if self._plans[name].baseline]
        if baselines:
            return baselines[0]
        return min(wanting, key=lambda name: self._issued[name], default=None)  # ties: request order

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        name = self._next_study()
        if name is None:
            return Searcher.FINISHED
        plan, study = self._plans[name], self.study(name)
        waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        if self._issued[name] == 0 and plan.distributions and not waiting:
            study.enqueue_trial(plan.default)  # the untuned DABS configuration is trial 0
        trial = study.ask(plan.distributions)
        self._issued[name] += 1
        self._live[trial_id] = (name, trial.number)
        return {**plan.fixed, **trial.params, TRIAL_NUMBER: trial.number, STUDY: name}

    # -- results ------------------------------------------------------------------------
    def _frozen(self, trial_id: str):
        name, number = self._live[trial_id]
        return self.study(name), self.study(name).get_trials(deepcopy=False)[number]

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        if trial_id in self._live and trial_id not in self._done and len(self._metrics) == 1:
            self._report(trial_id, result)

    def _report(self, trial_id: str, result: dict[str, Any] | None) -> None:
        value = (result or {}).get(self._metric)
        if value is None:
            return
        # A non-finite score (a diverged trial's last report) is kept as NaN: TPE ranks a pruned
        # trial by its last intermediate value and puts a NaN last, while an inf would rank first
        # and a skipped value would leave the trial ranked by its earlier, finite scores.
        value = float(value) if math.isfinite(float(value)) else math.nan
        study, frozen = self._frozen(trial_id)
        step = int(result.get("training_iteration", 0))
        if frozen.state == TrialState.RUNNING and step not in frozen.intermediate_values:
            optuna.trial.Trial(study, frozen._trial_id).report(value, step)

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False) -> None:
        if trial_id not in self._live or trial_id in self._done or error:
            return  # errored: left open until the search ends (a retry or a resume may finish it)
        study, frozen = self._frozen(trial_id)
        self._done.add(trial_id)
        if frozen.state.is_finished():
            return  # told before an interruption, then re-run by the resume: recorded once
        if len(self._metrics) == 1:
            self._report(trial_id, result)  # Tune skips on_trial_result for a trial's last result
        values = self._values(result)
        kill_point("trial-ended")  # test-only: Tune has the trial's last result, the study not yet
        if result and result.get(FINAL) and values is not None:
            study.tell(frozen.number, values, state=TrialState.COMPLETE)
            kill_point("trial-told")  # test-only: between trials
        else:
            reason = (result or {}).get(DIVERGED_KEY)
            if reason:  # dabs_lib.divergence: PRUNED, not FAIL (TPE ranks pruned trials, ignores FAIL ones)
                trial = optuna.trial.Trial(study, frozen._trial_id)
                trial.set_user_attr(DIVERGED_KEY, str(reason))
                trial.set_user_attr(ERROR_ATTR, str(reason))  # the report's error line
            study.tell(frozen.number, state=TrialState.PRUNED)

    def _values(self, result: dict[str, Any] | None):
        values = [(result or {}).get(m) for m in self._metrics]
        if any(v is None or not math.isfinite(float(v)) for v in values):
            return None
        return [float(v) for v in values] if len(values) > 1 else float(values[0])

    # -- checkpoint ---------------------------------------------------------------------
    def save(self, checkpoint_path: str) -> None:
        state = {k: v for k, v in self.__dict__.items() if k not in ("_open", "_scheduler")}
        state["scheduler_state"] = self._scheduler.get_state() if self._scheduler is not None else None
        data = pickle.dumps(state)
        with open(checkpoint_path, "wb") as out:
            out.write(data[: len(data) // 2])
            out.flush()
            kill_point("searcher-save")  # test-only: a kill in the middle of the driver's checkpoint write
            out.write(data[len(data) // 2:])

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as stream:
            state = pickle.load(stream)
        scheduler_state = state.pop("scheduler_state", None)
        self.__dict__.update(state)
        self._open = {}
        if _RELOCATED:
            self._journal = _RELOCATED[0]
        if self._scheduler is not None and scheduler_state is not None:
            self._scheduler.set_state(scheduler_state)
        self._reconcile()

    def _reconcile(self) -> None:
        """After a restore: close what Tune will not continue, recount every study from the journal."""
        known = set(self._live.values())
        for name in self._plans:
            study = self.study(name)
            for trial in study.get_trials(deepcopy=False):
                if trial.state == TrialState.RUNNING and (name, trial.number) not in known:
                    optuna.trial.Trial(study, trial._trial_id).set_user_attr(ERROR_ATTR, ORPHAN)
                    study.tell(trial.number, state=TrialState.FAIL)
            self._issued[name] = sum(1 for t in study.get_trials(deepcopy=False)
                                     if t.state != TrialState.WAITING and t.user_attrs.get(ERROR_ATTR) != ORPHAN)


def close_open_trials(journal: str, errors: dict[tuple[str, int], str]) -> None:
    """At the end of a search: every trial still RUNNING in the journal becomes FAIL, with its
    error line (errors: (study, number) -> line) or the reason it never finished."""
    storage = open_journal(journal)
    for summary in storage.get_all_studies():
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            reason = errors.get((summary.study_name, trial.number), "not finished when the search ended")
            optuna.trial.Trial(study, trial._trial_id).set_user_attr(ERROR_ATTR, reason)
            study.tell(trial.number, state=TrialState.FAIL)
