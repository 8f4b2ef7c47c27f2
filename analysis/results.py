"""Load finished (or running) searches from disk into tidy tables. No Ray needed.

`load_results` gives one row per (trial, evaluation); `trial_table` one row per trial
with its last evaluation, its best-ever validation score and its status.
Columns: experiment, domain, objective, trial, iteration, status (completed, pruned,
errored, running), error (its first line), retries (restarts from its checkpoint after an
error), warm_start (a configuration --warm-start carried over), checkpoint (the trial's latest),
checkpoint_at (this evaluation's, while it is still kept), every hyperparameter (params.json, same
names as the YAML spaces) and every reported metric (`transfer/val`, `test/<task>`, `seconds`, ...).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from dabs_lib.experiment import (
    ERROR_ATTR,
    FINAL,
    METRIC,
    PARAMS,
    PROBE_SECONDS,
    SECONDS,
    STEP,
    STUDY,
    TRIAL_NUMBER,
    WARM_ATTR,
    ExperimentError,
    error_line,
    journal_path,
    open_storage,
    parse_trial_name,
    retries,
    study_name,
)
from dabs_lib.experiment import read_manifest as _read_manifest
from dabs_lib.safe_io import CorruptFileError, read_json

STATUSES = ("completed", "pruned", "errored", "running")
# Optuna trial state -> status in these tables (the journal is the source of truth)
JOURNAL_STATUS = {
    "COMPLETE": "completed",
    "PRUNED": "pruned",
    "FAIL": "errored",
    "RUNNING": "running",
    "WAITING": "running",
}
# Columns that are neither hyperparameters nor metrics (see param_columns).
BOOKKEEPING = (
    "experiment",
    "domain",
    "objective",
    "trial",
    "iteration",
    "status",
    "error",
    "checkpoint",
    "checkpoint_at",
    "trial_dir",
    "study_dir",
    "best_val",
    "best_iteration",
    "best_checkpoint",
    "evaluations",
    "retries",
    "probe_share",
    STEP,
    SECONDS,
    PROBE_SECONDS,
    PARAMS,
    FINAL,
    TRIAL_NUMBER,
    STUDY,
    WARM_ATTR,
)
__all__ = [
    "ExperimentError",
    "METRIC",
    "STATUSES",
    "load_experiment",
    "load_results",
    "read_manifest",
    "trial_table",
    "param_columns",
    "live_timeline",
    "journal_states",
]


TRIAL_FIX = "Delete that trial folder to drop the trial, or restore the file from a copy."


def _read_jsonl(path: Path) -> tuple[list[dict], str]:
    """(rows, problem): a last line cut by a killed writer is dropped quietly; a bad line with
    more after it means the file is corrupt, and `problem` names it (rows before it are kept)."""
    rows: list[dict] = []
    if not path.is_file():
        return rows, ""
    lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        if not isinstance(row, dict):
            if number == len(lines):
                break
            return rows, f"{path} is corrupt: line {number} is not a JSON result. {TRIAL_FIX}"
        rows.append(row)
    return rows, ""


def _read_params(trial_dir: Path) -> tuple[dict, str]:
    """(params, problem): a corrupt params.json (0 bytes after a full disk) is tolerated: the
    trial is placed by its folder name (<domain>_<objective>_<NNN>) and shows as errored."""
    try:
        params = read_json(trial_dir / "params.json", TRIAL_FIX, "the trial's parameters as JSON")
        if isinstance(params, dict):
            return params, ""
        raise CorruptFileError(
            trial_dir / "params.json", f"it must hold a JSON object, not {type(params).__name__}", TRIAL_FIX
        )
    except CorruptFileError as error:
        domain, study, number = parse_trial_name(trial_dir.name)
        placed = {"domain": domain, STUDY: study, TRIAL_NUMBER: number}
        return placed, str(error)


def live_timeline(results: list[dict]) -> list[dict]:
    """The reports of a trial's surviving run, in order.

    A trial resumed after an interruption restarts from its last persisted checkpoint, so
    reports made after that checkpoint appear twice in `result.json`: once from the lost
    run, once from the re-run. The re-run supersedes them; this keeps only its rows.
    """
    kept: list[dict] = []
    for result in results:
        iteration = result.get("training_iteration", 0)
        while kept and kept[-1].get("training_iteration", 0) >= iteration:
            kept.pop()
        kept.append(result)
    return kept


def _latest_checkpoint(trial_dir: Path) -> str:
    checkpoints = sorted(trial_dir.glob("checkpoint_*"))
    return str(checkpoints[-1]) if checkpoints else ""


def journal_states(experiment: Path) -> dict[tuple[str, int], tuple[str, str, bool]]:
    """(study, trial number) -> (status, error line, whether --warm-start enqueued it) of every
    trial in the experiment's journal."""
    if not journal_path(experiment).is_file():
        return {}
    storage = open_storage(experiment)
    out = {}
    for study in storage.get_all_studies():
        for trial in storage.get_all_trials(study._study_id, deepcopy=False):
            status = JOURNAL_STATUS.get(trial.state.name, "running")
            attrs = trial.user_attrs
            out[(study.study_name, trial.number)] = (status, str(attrs.get(ERROR_ATTR, "")), bool(attrs.get(WARM_ATTR)))
    return out


def _status(results: list[dict], error: str, journal: tuple[str, str, bool] | None) -> tuple[str, str]:
    if journal is not None and journal[0] == "running" and error:
        return "errored", error  # Tune gave up on it; the search closes it FAIL when it ends
    if journal is not None:
        return journal[0], journal[1] or (error if journal[0] == "errored" else "")
    if results and results[-1].get(FINAL):
        return "completed", ""
    return ("errored", error) if error else ("running", "")


def _trial_rows(trial_dir: Path, states: dict) -> list[dict]:
    params_file = trial_dir / "params.json"
    if not params_file.is_file():
        return []
    params, corrupt = _read_params(trial_dir)
    results, broken = _read_jsonl(trial_dir / "result.json")
    results, corrupt = live_timeline(results), corrupt or broken
    error_file = trial_dir / "error.txt"
    error_text = error_file.read_text(errors="replace") if error_file.is_file() else ""
    error = error_line(error_text)
    if error_file.is_file() and not error:  # Tune could not write the message (full disk)
        error = "(no message: error.txt is empty, e.g. written on a full disk)"
    study = params.get(STUDY) or study_name(params.get("domain", ""), params.get("objective", ""))
    journal = states.get((study, int(params.get(TRIAL_NUMBER, 0))))
    status, error = _status(results, error, journal)
    if corrupt:
        status, error = "errored", corrupt
    base = {
        "trial": trial_dir.name,
        "status": status,
        "error": error,
        "domain": params.get("domain", ""),
        "objective": study.rpartition("-")[2],
        "checkpoint": _latest_checkpoint(trial_dir),
        "trial_dir": str(trial_dir),
        "retries": retries(error_text, status == "errored"),
        WARM_ATTR: bool(journal and journal[2]),
    }
    base.update({k: v for k, v in params.items() if not isinstance(v, (dict, list)) and k not in base})
    if not results:
        return [dict(base, iteration=0)]
    rows = []
    for result in results:
        metrics = {k: v for k, v in result.items() if "/" in k or k in (STEP, SECONDS, PROBE_SECONDS, PARAMS, FINAL)}
        kept = trial_dir / str(result.get("checkpoint_dir_name") or "")  # num_to_keep deletes old ones
        at = str(kept) if kept != trial_dir and kept.is_dir() else ""
        rows.append(dict(base, iteration=result.get("training_iteration", 0), checkpoint_at=at, **metrics))
    return rows


def read_manifest(path: str | Path) -> dict:
    """The experiment's manifest as a dict (kind, request, status, studies), or ExperimentError."""
    return _read_manifest(path).to_dict()


def load_experiment(path: str | Path) -> pd.DataFrame:
    """Every trial folder of an experiment, with its status from the journal."""
    root = Path(path)
    manifest = _read_manifest(root)
    states = journal_states(root)
    rows = []
    for trial_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        rows += [dict(row, experiment=root.name, study_dir=str(root)) for row in _trial_rows(trial_dir, states)]
    if not rows:
        raise ExperimentError(f"{root} holds no trial results yet")
    front = ["experiment", "domain", "objective", "trial", "iteration", "status"]
    table = pd.DataFrame(rows)
    if METRIC not in table:
        errors = sorted({f"{r['trial']}: {r['error']}" for r in rows if r["error"]})
        raise ExperimentError(
            f"{root}: no trial reported {METRIC} (search {manifest.status}; "
            f"{len(errors)} errored trial(s){': ' + '; '.join(errors) if errors else ''})"
        )
    return table[front + [c for c in table.columns if c not in front]]


def load_results(paths: list[str | Path]) -> pd.DataFrame:
    return pd.concat([load_experiment(p) for p in paths], ignore_index=True)


def damaged_lines(results: pd.DataFrame) -> list[str]:
    """One line per damaged trial file: which file, and what the tables did with its trial."""
    if "error" not in results:
        return []
    lines = {}
    for trial, error in results[["trial", "error"]].itertuples(index=False):
        if isinstance(error, str) and " is corrupt" in error:
            path = error.split(" is corrupt", 1)[0]
            lines[path] = (
                f"damaged: {path} ({error.split(' is corrupt', 1)[1].lstrip(': ').split('. ')[0]}); "
                f"trial {trial} counted as errored and left out of the scores"
            )
    return list(lines.values())


def param_columns(table: pd.DataFrame) -> list[str]:
    """The hyperparameter columns (params.json keys) of a results or trial table."""
    return [c for c in table.columns if "/" not in c and c not in BOOKKEEPING]


def trial_table(results: pd.DataFrame) -> pd.DataFrame:
    """One row per trial: the last evaluation, plus `best_val` (best-ever), `evaluations`,
    `best_iteration` / `best_checkpoint` (where the best-ever score was reported) and
    `probe_share` (the in-search probe's share of the trial's wall time so far)."""
    keys = ["experiment", "domain", "objective", "trial"]
    ordered = results.sort_values(keys + ["iteration"])
    last = ordered.groupby(keys, sort=False).tail(1).set_index(keys)
    if METRIC in ordered:
        grouped = ordered.groupby(keys, sort=False)[METRIC]
        last["best_val"] = grouped.max()
        last["evaluations"] = grouped.count()
        scored = ordered.dropna(subset=[METRIC])
        # first evaluation reaching the maximum: stable sort keeps iteration order within ties
        peak = scored.sort_values(METRIC, ascending=False, kind="stable").groupby(keys, sort=False).head(1)
        peak = peak.set_index(keys)
        last["best_iteration"] = peak["iteration"]
        last["best_checkpoint"] = peak.get("checkpoint_at", "")
    if PROBE_SECONDS in ordered and SECONDS in ordered:
        probed = ordered.groupby(keys, sort=False)[PROBE_SECONDS].sum(min_count=1)
        last["probe_share"] = probed / last[SECONDS].where(last[SECONDS] > 0)
    return last.reset_index()
