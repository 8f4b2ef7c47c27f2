"""The manifest of a search experiment, and what the end of its Tune run means for it.

When a Tune run returns, either some trial is unfinished (Ctrl-C, a killed driver: the search
is `interrupted` and `resume` continues it, errored trials left open so a resume can finish
them), or the search ended: trials still RUNNING in the journal are closed FAIL with their
error line, and each study is `finished` (some trial completed or was pruned) or `failed`
(every trial errored; never reported as finished).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from optuna.trial import FrozenTrial, TrialState

from dabs_lib.experiment import (
    ERROR_ATTR,
    JOURNAL,
    MANIFEST,
    STUDY,
    TRIAL_NUMBER,
    ExperimentError,
    Manifest,
    Study,
    error_line,
    parse_manifest,
    parse_trial_name,
    split_study,
    trial_name,
)
from dabs_lib.safe_io import kill_point
from trainables import storage
from trainables.optuna_search import ORPHAN, StudyPlan, close_open_trials, open_journal
from trainables.request import SearchRequest
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ray.tune import Result, ResultGrid

CACHE = os.path.join(os.environ.get("DABS_TUNE_CACHE", os.path.expanduser("~/.cache/dabs-tune")), "journals")


@dataclass(frozen=True)
class Outcome:
    status: str  # finished | failed | interrupted
    studies: dict[str, str]  # study name -> status
    errors: tuple[str, ...]  # "<trial>: <error line>" of every trial that stayed errored

    @property
    def failed_studies(self) -> list[str]:
        return [name for name, status in self.studies.items() if status == "failed"]


def new_manifest(kind: str, request: dict[str, Any], plans: list[StudyPlan]) -> Manifest:
    studies = tuple(Study(p.domain, p.objective, "running", p.trials) for p in plans)
    return Manifest(kind, request, studies, "running")


def write_manifest(uri: str, manifest: Manifest) -> None:
    storage.write_json(storage.join(uri, MANIFEST), manifest.to_dict())


def load_manifest(uri: str, for_resume: bool = False) -> SearchRequest:
    """The request a search experiment was started with; ExperimentError when `uri` is not a
    search (a probe search cannot be resumed) or, for `resume`, when it already ended."""
    where = storage.join(uri, MANIFEST)
    if not storage.exists(where):
        raise ExperimentError(f"{uri} is not a dabs-tune experiment (no {MANIFEST})")
    manifest = parse_manifest(storage.read_json(where), where)
    if manifest.kind != "search":
        raise ExperimentError(f"{uri} is a {manifest.kind} experiment; only a search can be resumed")
    if for_resume and manifest.status in ("finished", "failed"):
        raise ExperimentError(f"{uri}: the search already ended ({manifest.status}); nothing to resume")
    fields = {f.name for f in dataclasses.fields(SearchRequest)}
    raw = {k: v for k, v in manifest.request.items() if k in fields}
    for key in ("domains", "objectives", "space_files", "warm_start"):
        raw[key] = tuple(raw.get(key, ()))
    return SearchRequest(**raw)


def journal_for(uri: str) -> str:
    """The journal's local path. Optuna's file journal needs a local (or shared) folder: with
    cloud storage it lives in the local cache and is uploaded beside the trials when the run ends."""
    local = storage.local_path(uri)
    if local is not None:
        os.makedirs(local, exist_ok=True)
        return os.path.join(local, JOURNAL)
    path = os.path.join(CACHE, uri.replace("://", "/").replace("/", "_"), JOURNAL)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path) and storage.exists(storage.join(uri, JOURNAL)):
        storage.download(storage.join(uri, JOURNAL), path)
    return path


def _error_lines(grid: ResultGrid) -> dict[tuple[str, int], str]:
    out = {}
    for result in (grid[i] for i in range(len(grid))):  # ResultGrid is indexed, not typed as iterable
        if result.error is not None:
            out[_trial_key(result)] = error_line(str(result.error)) or type(result.error).__name__
    return out


def _trial_key(result: Result) -> tuple[str, int]:
    """(study, trial number) of a Tune result. A trial whose worker died before Tune heard from it
    (e.g. killed by Ray's memory monitor) has no config: its folder name says the same."""
    if result.config:
        return str(result.config.get(STUDY, "")), int(result.config.get(TRIAL_NUMBER, 0))
    _, study, number = parse_trial_name(os.path.basename(result.path.rstrip("/")))
    return study, number


def _counted(trials: list[FrozenTrial]) -> list[FrozenTrial]:
    return [t for t in trials if t.state != TrialState.WAITING and t.user_attrs.get(ERROR_ATTR) != ORPHAN]


def finish(uri: str, manifest: Manifest, plans: list[StudyPlan], grid: ResultGrid, journal: str) -> Outcome:
    """Record the end of a Tune run in the journal and the manifest; KeyboardInterrupt when interrupted."""
    kill_point("search-end")  # test-only: Tune has returned, nothing of the end is written yet
    storage_ = open_journal(journal)
    names = {s.study_name for s in storage_.get_all_studies()}

    def trials(name: str) -> list[Any]:
        return _counted(storage_.get_all_trials(storage_.get_study_id_from_name(name))) if name in names else []

    unfinished = len(grid) > grid.num_terminated + grid.num_errors
    interrupted = unfinished or any(len(trials(p.name)) < p.trials for p in plans)
    errors = _error_lines(grid)
    if not interrupted:
        close_open_trials(storage_, errors)
        kill_point("journal-closed")  # test-only: the journal is closed, the manifest still says running
    statuses = {}
    for plan in plans:
        states = [t.state for t in trials(plan.name)]
        ok = any(s in (TrialState.COMPLETE, TrialState.PRUNED) for s in states)
        statuses[plan.name] = "running" if interrupted else ("finished" if ok else "failed")
    lines = tuple(
        f"{trial_name(*split_study(name), number)}: {line}" for (name, number), line in sorted(errors.items())
    )
    status = "interrupted" if interrupted else ("failed" if "finished" not in statuses.values() else "finished")
    studies = tuple(Study(p.domain, p.objective, statuses[p.name], p.trials) for p in plans)
    write_manifest(uri, dataclasses.replace(manifest, studies=studies, status=status, errors=lines))
    if storage.local_path(uri) is None:
        storage.upload(journal, storage.join(uri, JOURNAL))
    outcome = Outcome(status, statuses, lines)
    if interrupted:
        raise KeyboardInterrupt(f"search interrupted: {uri}")
    return outcome
