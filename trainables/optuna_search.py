"""One Tune searcher for every study of an experiment, each an Optuna study in the experiment's journal.

`MultiStudySearcher` decides which study gets the next trial (the random-init baselines
first, then the searched study with the fewest trials, so none starves), asks that study's
own sampler (seeded from --seed, domain and objective) and routes results back:

- a study's trial 0 is the DABS default point (enqueued before its first ask), then the
  configurations of --warm-start (trainables/warm_start.py);
- a cross-domain study (`shared-<objective>`, trainables/shared_trials.py) hands each Optuna
  trial to Tune once per domain and is told the aggregate (dabs_lib/shared.py);
- a trial is COMPLETE only when its last result says `final: True` (it reached its full
  budget); a trial the scheduler stopped is PRUNED with its intermediate values;
- an errored trial stays RUNNING while Tune may still retry or resume it; the runner closes
  it FAIL with its error line when the search ends (`close_open_trials`);
- after `Tuner.restore`, trials the journal holds as RUNNING that Tune does not know (asked
  after Tune's last snapshot) are closed FAIL with a reason, and every study's count is
  rebuilt from the journal, the single source of truth.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import pickle
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterator

import optuna
from optuna.trial import FrozenTrial, TrialState
from ray.tune.search import Searcher

from dabs_lib.divergence import DIVERGED_KEY
from dabs_lib.experiment import (
    BASELINE,
    ERROR_ATTR,
    FINAL,
    FOLDER_ATTR,
    STEP,
    STUDY,
    STUDY_ATTRS,
    TRIAL_NUMBER,
    TUNE_ID_ATTR,
    WARM_ATTR,
    study_name,
    trial_name,
)
from dabs_lib.safe_io import kill_point
from dabs_lib.shared import AGGREGATE_ATTR
from trainables.schedulers import PerStudyScheduler, make_sampler
from trainables.shared_trials import SharedTrials

_RELOCATED: list[str] = []  # set by relocate_journal before Tuner.restore


def relocate_journal(path: str) -> None:
    """Where a restored searcher finds its journal (the experiment may have been moved);
    "" forgets it, so a later searcher in the same process is not sent to this one's journal."""
    _RELOCATED[:] = [path] if path else []


ORPHAN = "interrupted: asked after the search's last snapshot, so the resumed search could not continue it"


@dataclass(frozen=True)
class StudyPlan:
    """What one study runs: its constant config, its Optuna distributions, its default point."""

    domain: str
    objective: str
    trials: int  # trials to run (1 for a baseline)
    fixed: dict[str, Any] = field(default_factory=dict)
    distributions: dict[str, Any] = field(default_factory=dict)  # name -> optuna distribution
    default: dict[str, Any] = field(default_factory=dict)  # searched names at the DABS default
    domains: tuple[str, ...] = ()  # a cross-domain study (domain == SHARED): the domains each trial runs on
    fixed_by_domain: dict[str, dict[str, Any]] = field(default_factory=dict)  # shared study: each domain's constants
    warm: tuple[dict[str, Any], ...] = ()  # --warm-start: configs enqueued right after the DABS default

    @property
    def name(self) -> str:
        return study_name(self.domain, self.objective)

    @property
    def baseline(self) -> bool:
        return self.objective == BASELINE or not self.distributions

    @property
    def shared(self) -> bool:
        return bool(self.domains)


def study_seed(seed: int, domain: str, objective: str, number: int = 0) -> int:
    """The sampler seed of a study's trial `number`: stable across runs and machines (unlike hash()).
    Seeded per trial, a resumed study draws what the uninterrupted one would have drawn given the
    same history, and never the interrupted run's first points again (one sampler re-made on resume
    with the search's first seed did)."""
    suffix = f"/{number}" if number else ""  # trial 0 keeps the seed the study always had
    digest = hashlib.sha256(f"{seed}/{domain}/{objective}{suffix}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def is_warm(params: dict[str, Any], warm: tuple[dict[str, Any], ...]) -> bool:
    """Whether a trial's parameters are one of the study's --warm-start configurations (each fixes
    part of the parameters; the sampler chose the rest)."""
    return any(all(params.get(k) == v for k, v in config.items()) for config in warm)


def _next_number(study: optuna.Study) -> int:
    """The number of the trial `study.ask` returns next: the first queued one (enqueued, its given
    parameters fixed, the rest sampled), else a new one."""
    trials = study.get_trials(deepcopy=False)
    queued = [t.number for t in trials if t.state == TrialState.WAITING]
    return min(queued) if queued else len(trials)


_ONE_READER: dict[str, optuna.storages.JournalStorage | None] = {}  # journal path -> its reader in a run


@contextlib.contextmanager
def one_reader(path: str) -> Iterator[None]:
    """Within this block, every `open_journal(path)` of this process returns one JournalStorage, so
    a run's searcher and its end (trainables.outcome.finish) replay the journal once, not once each
    (the replay is most of a resume's own time at thousands of trials: BENCHMARKS.md). Only while
    one run owns the journal: a JournalStorage reads just the lines appended since its last read,
    so a file rewritten meanwhile (`resume`'s removal of a cut last line) would be misread."""
    _ONE_READER[path] = None
    try:
        yield
    finally:
        _ONE_READER.pop(path, None)


def open_journal(path: str) -> optuna.storages.JournalStorage:
    from optuna.storages.journal import JournalFileBackend

    if path not in _ONE_READER:
        return optuna.storages.JournalStorage(JournalFileBackend(path))
    reader = _ONE_READER[path]
    if reader is None:
        reader = _ONE_READER[path] = optuna.storages.JournalStorage(JournalFileBackend(path))
    return reader


class MultiStudySearcher(Searcher):
    def __init__(
        self,
        plans: list[StudyPlan],
        journal: str,
        metric: str | list[str],
        mode: str | list[str],
        sampler: str = "tpe",
        seed: int = 0,
    ) -> None:
        super().__init__()
        self._metrics = list(metric) if isinstance(metric, list) else [metric]
        self._modes = list(mode) if isinstance(mode, list) else [mode]
        self._metric, self._mode = self._metrics[0], self._modes[0]  # what Tune reads for its warnings
        self._plans = {p.name: p for p in plans}
        self._journal, self._sampler, self._seed = journal, sampler, seed
        self._issued = dict.fromkeys(self._plans, 0)
        self._live: dict[str, tuple[str, int]] = {}  # Tune trial id -> (study, trial number)
        self._done: set[str] = set()
        self._scheduler: PerStudyScheduler | None = None  # its state travels with ours
        self._open: dict[str, optuna.Study] = {}
        self._storage: optuna.storages.JournalStorage | None = None  # one reader of the journal for every study
        baselines = {p.domain for p in plans if p.baseline}
        self._shared = {
            p.name: SharedTrials(p.domains, self._metric, baselines & set(p.domains)) for p in plans if p.shared
        }

    def attach(self, scheduler: PerStudyScheduler) -> None:
        """Save and restore `scheduler`'s per-study state with the searcher's (Tune saves no scheduler)."""
        self._scheduler = scheduler

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any) -> bool:
        return not config  # the studies own the space: Tune's param_space must stay empty

    # -- studies ------------------------------------------------------------------------
    def storage(self) -> optuna.storages.JournalStorage:
        """The journal, opened once and shared by every study: a JournalStorage replays every new line
        of the file before each read, so one per study (48 in a 12 x 4 experiment) parsed each line
        48 times (bench/searcher_scale.py, BENCHMARKS.md)."""
        if self._storage is None:
            self._storage = open_journal(self._journal)
        return self._storage

    def study(self, name: str) -> optuna.Study:
        if name not in self._open:
            plan = self._plans[name]
            optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "A new study created" lines
            directions = ["maximize" if m == "max" else "minimize" for m in self._modes]
            study = optuna.create_study(
                study_name=name,
                storage=self.storage(),
                load_if_exists=True,
                directions=directions,
                sampler=optuna.samplers.RandomSampler(),
            )
            self._open[name] = study
            self._label(study, plan)
        return self._open[name]

    def _label(self, study: optuna.Study, plan: StudyPlan) -> None:
        """What Optuna's dashboard and plots show: the metric names, the study's domain and objective."""
        if study.metric_names != self._metrics:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                study.set_metric_names(list(self._metrics))
        for key, value in zip(STUDY_ATTRS, (plan.domain, plan.objective)):
            if study.user_attrs.get(key) != value:
                study.set_user_attr(key, value)

    def _next_study(self) -> str | None:
        wanting = [name for name, plan in self._plans.items() if self._issued[name] < plan.trials]
        baselines = [name for name in wanting if self._plans[name].baseline]
        if baselines:
            return baselines[0]
        return min(wanting, key=lambda name: self._issued[name], default=None)  # ties: request order

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        for name, shared in self._shared.items():  # the other domains of a shared trial already asked
            handed = shared.hand_out(trial_id)
            if handed is not None:
                return self._shared_config(name, trial_id, *handed)
        name = self._next_study()
        if name is None:
            return Searcher.FINISHED
        plan, study = self._plans[name], self.study(name)
        if plan.shared and not self._shared[name].ready():
            return None  # the aggregate needs every domain's random-init score: ask again later
        waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        if self._issued[name] == 0 and plan.distributions and not waiting:
            study.enqueue_trial(plan.default)  # the untuned DABS configuration is trial 0
            for config in plan.warm:  # --warm-start: other studies' best configurations next (not the default again)
                if config != {k: plan.default.get(k) for k in config}:
                    study.enqueue_trial(config, skip_if_exists=True)
        number = _next_number(study)
        study.sampler = make_sampler(self._sampler, study_seed(self._seed, plan.domain, plan.objective, number))
        trial = study.ask(plan.distributions)
        labels = zip(
            (*STUDY_ATTRS, FOLDER_ATTR, TUNE_ID_ATTR),
            (plan.domain, plan.objective, trial_name(plan.domain, plan.objective, trial.number), trial_id),
        )
        for key, value in labels:
            trial.set_user_attr(key, value)
        if trial.number > 0 and is_warm(trial.params, plan.warm):
            trial.set_user_attr(WARM_ATTR, True)  # Optuna's dashboard shows where the trial came from
            if self._scheduler is not None:
                self._scheduler.mark_warm(name, trial.number)
        self._issued[name] += 1
        if plan.shared:
            self._shared[name].start(trial.number)
            return self._shared_config(name, trial_id, *self._shared[name].hand_out(trial_id))
        self._live[trial_id] = (name, trial.number)
        return {**plan.fixed, **trial.params, TRIAL_NUMBER: trial.number, STUDY: name}

    def _shared_config(self, name: str, trial_id: str, number: int, domain: str) -> dict[str, Any]:
        """One domain's Tune trial of a shared trial: that domain's constants, the trial's parameters."""
        plan, study = self._plans[name], self.study(name)
        self._live[trial_id] = (name, number)
        params = study.get_trials(deepcopy=False)[number].params
        return {**plan.fixed_by_domain[domain], **params, TRIAL_NUMBER: number, STUDY: name}

    # -- results ------------------------------------------------------------------------
    def _frozen(self, trial_id: str) -> tuple[optuna.Study, FrozenTrial]:
        name, number = self._live[trial_id]
        return self.study(name), self.study(name).get_trials(deepcopy=False)[number]

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        if trial_id in self._live and trial_id not in self._done and len(self._metrics) == 1:
            self._report(trial_id, result)

    def _shared_of(self, trial_id: str) -> SharedTrials | None:
        shared = self._shared.get(self._live[trial_id][0]) if trial_id in self._live else None
        return shared if shared is not None and trial_id in shared.live else None

    def _report(self, trial_id: str, result: dict[str, Any] | None) -> None:
        value = (result or {}).get(self._metric)
        if value is None:
            return
        shared = self._shared_of(trial_id)
        if shared is not None:  # the aggregate, once every domain has this evaluation
            reached = shared.result(trial_id, result or {})
            if reached is not None:
                self._intermediate(trial_id, reached[2], reached[1])
            return
        # keyed by optimizer step (as TensorBoard and the report's curves), else by Tune's iteration
        result = result or {}
        self._intermediate(trial_id, value, int(result.get(STEP, result.get("training_iteration", 0))))

    def _intermediate(self, trial_id: str, value: float, step: int) -> None:
        # A non-finite score (a diverged trial's last report) is kept as NaN: TPE ranks a pruned
        # trial by its last intermediate value and puts a NaN last, while an inf would rank first
        # and a skipped value would leave the trial ranked by its earlier, finite scores.
        value = float(value) if math.isfinite(float(value)) else math.nan
        study, frozen = self._frozen(trial_id)
        if frozen.state == TrialState.RUNNING and step not in frozen.intermediate_values:
            optuna.trial.Trial(study, frozen._trial_id).report(value, step)

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False) -> None:
        plan = self._plans[self._live[trial_id][0]] if trial_id in self._live else None
        if plan is not None and plan.baseline:
            for shared in self._shared.values():  # a shared study's reference score for this domain
                if plan.domain in shared.awaited:
                    shared.baseline(plan.domain, result, error)  # an errored baseline: r_d = BASELINE_FALLBACK
        if trial_id not in self._live or trial_id in self._done or error:
            return  # errored: left open until the search ends (a retry or a resume may finish it)
        study, frozen = self._frozen(trial_id)
        self._done.add(trial_id)
        if frozen.state.is_finished():
            return  # told before an interruption, then re-run by the resume: recorded once
        if self._shared_of(trial_id) is not None:
            self._complete_shared(trial_id, result)
            return
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

    def _complete_shared(self, trial_id: str, result: dict[str, Any] | None) -> None:
        ended = self._shared_of(trial_id).complete(trial_id, result)  # type: ignore[union-attr]
        if ended is None:
            return  # other domains of this configuration still running
        number, complete, value, scores = ended
        study, frozen = self._frozen(trial_id)
        optuna.trial.Trial(study, frozen._trial_id).set_user_attr(AGGREGATE_ATTR, scores)
        if complete and math.isfinite(value):
            study.tell(number, value, state=TrialState.COMPLETE)
        else:
            study.tell(number, state=TrialState.PRUNED)

    def _values(self, result: dict[str, Any] | None) -> float | list[float] | None:
        values = [(result or {}).get(m) for m in self._metrics]
        if any(v is None or not math.isfinite(float(v)) for v in values):
            return None
        return [float(v) for v in values] if len(values) > 1 else float(values[0])

    # -- checkpoint ---------------------------------------------------------------------
    def save(self, checkpoint_path: str) -> None:
        state = {k: v for k, v in self.__dict__.items() if k not in ("_open", "_scheduler", "_storage")}
        state["scheduler_state"] = self._scheduler.get_state() if self._scheduler is not None else None
        data = pickle.dumps(state)
        with open(checkpoint_path, "wb") as out:
            out.write(data[: len(data) // 2])
            out.flush()
            kill_point("searcher-save")  # test-only: a kill in the middle of the driver's checkpoint write
            out.write(data[len(data) // 2 :])

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as stream:
            state = pickle.load(stream)
        scheduler_state = state.pop("scheduler_state", None)
        self.__dict__.update(state)
        self._open, self._storage = {}, None
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
            self._issued[name] = sum(
                1
                for t in study.get_trials(deepcopy=False)
                if t.state != TrialState.WAITING and t.user_attrs.get(ERROR_ATTR) != ORPHAN
            )


def close_open_trials(storage: optuna.storages.BaseStorage, errors: dict[tuple[str, int], str]) -> None:
    """At the end of a search: every trial still RUNNING in the journal becomes FAIL, with its
    error line (errors: (study, number) -> line) or the reason it never finished."""
    for summary in storage.get_all_studies():
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            reason = errors.get((summary.study_name, trial.number), "not finished when the search ended")
            optuna.trial.Trial(study, trial._trial_id).set_user_attr(ERROR_ATTR, reason)
            study.tell(trial.number, state=TrialState.FAIL)
