"""Where an experiment stands, read from its manifest and its Optuna journal: no Ray, no torch.

`dabs-tune status EXPERIMENT` prints it; it reads the same files while a search writes them (in
another process, or on another machine that shares the folder) and after the search ended. The
journal is the single source of truth for trials; a trial the journal still holds as RUNNING whose
folder has Ray's `error.txt` is counted errored (Tune may still retry it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dabs_lib.experiment import (
    MANIFEST,
    METRIC,
    WARM_ATTR,
    journal_path,
    open_storage,
    read_manifest,
    split_study,
    trial_name,
)

if TYPE_CHECKING:  # optuna is imported where a journal is read
    from optuna.trial import FrozenTrial

STATES = ("finished", "running", "pruned", "errored")  # the order every count is printed in
OPTUNA_STATES = {"COMPLETE": "finished", "RUNNING": "running", "PRUNED": "pruned", "FAIL": "errored"}


def duration(seconds: float) -> str:
    """`12m05s`, or `3h07m` from an hour on."""
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m{secs:02d}s"


@dataclass(frozen=True)
class StudyStatus:
    name: str
    planned: int  # trials the search will run in this study
    counts: dict[str, int] = field(default_factory=dict)  # STATES -> trials
    best: float | None = None  # best score of a trial that reached its full budget
    seconds: tuple[float, ...] = ()  # wall seconds of every trial that ended (finished or pruned)
    warm: tuple[int, ...] = ()  # numbers of the trials --warm-start enqueued
    warm_best: float | None = None  # best score of those that reached their full budget

    @property
    def left(self) -> int:
        return max(self.planned - sum(self.counts.get(s, 0) for s in ("finished", "pruned", "errored")), 0)


@dataclass(frozen=True)
class ExperimentStatus:
    path: Path
    kind: str
    status: str  # the manifest's: running | finished | interrupted | failed
    studies: tuple[StudyStatus, ...]
    elapsed: float  # from the first trial's start to now (running) or to the last trial's end
    metric: str = METRIC

    @property
    def storage(self) -> Path:
        return journal_path(self.path)

    def eta(self, study: StudyStatus | None = None) -> float | None:
        """Seconds left: trials left x mean seconds of an ended trial / trials running now (at least 1)."""
        chosen = self.studies if study is None else (study,)
        ended = [s for st in self.studies for s in st.seconds]
        left = sum(st.left for st in chosen)
        if not left:
            return 0.0
        if not ended:
            return None
        running = sum(st.counts.get("running", 0) for st in self.studies)
        return left * (sum(ended) / len(ended)) / max(1, running)


def read_status(experiment: str | Path, now: float | None = None) -> ExperimentStatus:
    """The experiment's status; ExperimentError or CorruptFileError for a folder it cannot read."""
    path = Path(experiment)
    manifest = read_manifest(path)
    planned = {s.name: s.trials for s in manifest.studies}
    storage = open_storage(path) if journal_path(path).is_file() else None
    found: dict[str, StudyStatus] = {}
    first, last = None, None
    for summary in storage.get_all_studies() if storage is not None else ():
        counts = dict.fromkeys(STATES, 0)
        best, seconds, warm, warm_best = None, [], [], None
        maximize = summary.directions[0].name == "MAXIMIZE"
        for trial in storage.get_all_trials(summary._study_id, deepcopy=False):
            state = _state(path, summary.study_name, trial)
            if state is None:
                continue
            counts[state] += 1
            if trial.user_attrs.get(WARM_ATTR):
                warm.append(trial.number)
                if state == "finished" and trial.values:
                    warm_best = _better(trial.values[0], warm_best, maximize)
            start, end = trial.datetime_start, trial.datetime_complete
            if start is not None:
                first = min(first or start, start)
            if end is not None:
                last = max(last or end, end)
            if state in ("finished", "pruned") and start is not None and end is not None:
                seconds.append((end - start).total_seconds())
            if state == "finished" and trial.values:
                best = _better(trial.values[0], best, maximize)
        found[summary.study_name] = StudyStatus(
            summary.study_name, planned.get(summary.study_name, 0), counts, best, tuple(seconds), tuple(warm), warm_best
        )
    studies = tuple(
        found.get(name, StudyStatus(name, trials, dict.fromkeys(STATES, 0))) for name, trials in planned.items()
    )
    now = time.time() if now is None else now
    end = now if manifest.status == "running" or last is None else last.timestamp()
    elapsed = max(end - first.timestamp(), 0.0) if first is not None else 0.0
    return ExperimentStatus(path, manifest.kind, manifest.status, studies, elapsed)


def _better(value: float, than: float | None, maximize: bool) -> float:
    return value if than is None or (value > than if maximize else value < than) else than


def _state(path: Path, study: str, trial: FrozenTrial) -> str | None:
    state = OPTUNA_STATES.get(trial.state.name)
    if state == "running" and (path / trial_name(*split_study(study), trial.number) / "error.txt").is_file():
        return "errored"  # Ray recorded an error; Tune may retry it from its checkpoint
    return state


def status_lines(status: ExperimentStatus) -> list[str]:
    """The table `dabs-tune status` prints."""
    lines = [
        f"experiment {status.path} ({status.kind}, {status.status}; manifest {status.path / MANIFEST})",
        f"storage: {status.storage} (Optuna JournalStorage, file backend)",
        f"{'study':<24} {'finished':>8} {'running':>7} {'pruned':>6} {'errored':>7} {'of':>4} "
        f"{'best ' + status.metric:>18} {'ETA':>8}",
    ]
    for study in status.studies:
        best = f"{study.best:.4f}" if study.best is not None else "-"
        lines.append(
            f"{study.name:<24} "
            + " ".join(f"{study.counts.get(s, 0):>{len(s)}}" for s in STATES)
            + f" {study.planned:>4} {best:>18} {_eta(status, study):>8}"
        )
    for study in status.studies:
        if study.warm:
            scores = f"best {study.warm_best:.4f}" if study.warm_best is not None else "none finished yet"
            lines.append(
                f"  {study.name}: trials {', '.join(map(str, study.warm))} are --warm-start configurations ({scores})"
            )
    total = {s: sum(st.counts.get(s, 0) for st in status.studies) for s in STATES}
    lines.append(
        f"overall: {', '.join(f'{total[s]} {s}' for s in STATES)} of "
        f"{sum(st.planned for st in status.studies)} trials; elapsed {duration(status.elapsed)}, "
        f"ETA {_eta(status, None)}"
    )
    return lines


def _eta(status: ExperimentStatus, study: StudyStatus | None) -> str:
    if status.status != "running":
        return "-"
    seconds = status.eta(study)
    return duration(seconds) if seconds is not None else "?"
