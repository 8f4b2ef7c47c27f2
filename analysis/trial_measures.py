"""Invariance scores and risk components of every finished trial of a search (`analyze --all-trials`).

    plan = trial_plan(report.trials)                         # finished searched trials with an encoder
    measures = measure_trials(plan, "reports/x/trials", invariance=True, risk=True, num_cpus=2)

One Ray task per trial (a private Ray, or the cluster at `address`) loads the trial's
encoder, scores the invariance of its pooled features to every corruption family on the
domain's pretraining split (no random-init twin: the baseline trial stands for it) and
decomposes the full-shot risk of every task, featurizing each split once through the
on-disk transfer feature cache (so `--combine` and a rerun read the features back). Each
finished trial is written at once, atomically, to `<folder>/<experiment>.<trial>.json`;
a rerun skips trials whose file holds the measures asked for. Long format, one row per
(experiment, trial, domain, objective, kind, measure, task, value); task "" for invariance.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from analysis.extras import SUPERVISED, domain_args
from analysis.tables import BASELINE

MEASURE_COLUMNS = ["experiment", "trial", "domain", "objective", "kind", "measure", "task", "value"]
KINDS = ("invariance", "risk")
RISK_MEASURES = ("approximation", "usability", "probe_generalization", "encoder_generalization")
PROTOCOL_KEYS = ("l2_min", "l2_max", "l2_steps")  # the trial's probe path: the risk probes use the same


def _encoder(checkpoint: object) -> str:
    from dabs_lib.experiment import ENCODER_FILE

    if not isinstance(checkpoint, str) or not checkpoint:
        return ""
    path = Path(checkpoint) / ENCODER_FILE
    return str(path) if path.is_file() else ""


def protocol_settings(row: pd.Series) -> dict:
    """The trial's probe-path settings (TrialSettings keys it has), typed; missing: the defaults."""
    found = {k: row[k] for k in PROTOCOL_KEYS if k in row and pd.notna(row[k])}
    return {k: (int(v) if k == "l2_steps" else float(v)) for k, v in found.items()}


def trial_plan(trials: pd.DataFrame) -> list[dict]:
    """One job per completed searched trial (not the random-init baseline, not a supervised twin)
    whose last checkpoint holds an encoder: what a worker needs to rebuild domain and protocol."""
    jobs = []
    done = trials[(trials["status"] == "completed") & ~trials["objective"].isin([BASELINE, SUPERVISED])]
    for _, row in done.iterrows():
        encoder = _encoder(row.get("checkpoint"))
        if not encoder:
            continue
        jobs.append(
            {
                "experiment": row["experiment"],
                "trial": row["trial"],
                "domain": row["domain"],
                "objective": row["objective"],
                "encoder": encoder,
                "domain_args": domain_args(row),
                "protocol": protocol_settings(row),
            }
        )
    return jobs


def result_file(folder: str | Path, job: dict) -> Path:
    return Path(folder) / f"{job['experiment']}.{job['trial']}.json"


def _kinds(invariance: bool, risk: bool) -> list[str]:
    return [k for k, on in zip(KINDS, (invariance, risk)) if on]


def read_done(folder: str | Path, job: dict, kinds: list[str]) -> list[dict] | None:
    """The trial's stored rows when its file holds every kind asked for; None when it must run."""
    path = result_file(folder, job)
    if not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None  # a damaged file costs one recomputation, never a wrong row
    if not isinstance(stored, dict) or not set(kinds) <= set(stored.get("kinds", [])):
        return None
    return stored.get("rows", [])


def _row(job: dict, kind: str, measure: str, task: str, value: float) -> dict:
    return {
        **{k: job[k] for k in ("experiment", "trial", "domain", "objective")},
        "kind": kind,
        "measure": measure,
        "task": task,
        "value": float(value),
    }


def measure_trial(job: dict, kinds: list[str], cache_dir: str = "", num_samples: int = 0) -> list[dict]:
    """Every measure of one trial (runs in a Ray worker or in-process)."""
    import torch

    from analysis.invariance import NUM_SAMPLES, invariance_scores
    from analysis.risk import decompose
    from dabs_lib.domains import get_domain
    from dabs_lib.experiment import TrialSettings, probe_protocol
    from dabs_lib.transfer.cache import DEFAULT_CACHE_DIR
    from dabs_lib.transfer.evaluate import as_encoder

    torch.set_num_threads(1)  # one trial per CPU: the workers share the cores
    domain = get_domain(job["domain"], **job["domain_args"])
    encoder = as_encoder(job["encoder"])
    rows = []
    if "invariance" in kinds:
        scores = invariance_scores(encoder, domain.pretrain, num_samples=num_samples or NUM_SAMPLES, random_init=False)
        rows += [_row(job, "invariance", r.family, "", r.score) for r in scores.itertuples()]
    if "risk" in kinds:
        protocol = probe_protocol(TrialSettings(**job["protocol"]))
        for name, task in domain.tasks.items():
            cache: object = cache_dir or DEFAULT_CACHE_DIR
            table = decompose(encoder, task, protocol=protocol, fewshot=(), cache_dir=cache)  # type: ignore[arg-type]
            full = table[table["shots"] == 0].iloc[0]
            rows += [_row(job, "risk", m, name, full[m]) for m in RISK_MEASURES if pd.notna(full[m])]
    return rows


def _store(folder: Path, job: dict, kinds: list[str], rows: list[dict]) -> None:
    from dabs_lib.safe_io import write_json

    write_json(result_file(folder, job), {"kinds": kinds, "encoder": job["encoder"], "rows": rows})


def measure_trials(
    jobs: list[dict],
    folder: str | Path,
    invariance: bool = True,
    risk: bool = True,
    num_cpus: int = 0,
    address: str = "",
    cache_dir: str = "",
    num_samples: int = 0,
    progress: bool = True,
) -> tuple[pd.DataFrame, list[str]]:
    """(measures of every job, notes on trials that failed), computing only the trials not done
    yet (in parallel on Ray). A failed trial is noted, not stored: a rerun tries it again."""
    from dabs_lib.progress import stage

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    kinds = _kinds(invariance, risk)
    rows, todo, notes = [], [], []
    for job in jobs:
        done = read_done(folder, job, kinds)
        if done is None:
            todo.append(job)
        else:
            rows += done
    with stage(
        f"invariance/risk of {len(todo)} trials ({len(jobs) - len(todo)} done before)",
        total=len(todo),
        unit="trials",
        enabled=progress and bool(todo),
    ) as bar:
        for job, found, error in _run(todo, kinds, num_cpus, address, cache_dir, num_samples):
            bar.update(1)
            if error:
                notes.append(
                    f"--all-trials: {job['experiment']}/{job['trial']} failed ({error}); rerun analyze to try it again"
                )
                continue
            _store(folder, job, kinds, found)
            rows += found
    return pd.DataFrame(rows, columns=MEASURE_COLUMNS), notes


def _run(
    jobs: list[dict], kinds: list[str], num_cpus: int, address: str, cache_dir: str, num_samples: int
) -> Iterator[tuple[dict, list[dict], str]]:
    """Yield (job, rows, error line) as each trial finishes: a Ray task per trial."""
    if not jobs:
        return
    import ray
    from ray.exceptions import RayError

    from trainables.cluster import TrialDemand, ray_session

    with ray_session(address, num_cpus, TrialDemand(1.0, 0.0)):
        remote = ray.remote(num_cpus=1)(measure_trial)
        cache = cache_dir or os.environ.get("DABS_TUNE_CACHE", "")
        pending = {remote.remote(job, kinds, cache, num_samples): job for job in jobs}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            job = pending.pop(ready[0])
            try:
                yield job, ray.get(ready[0]), ""
            except RayError as error:
                lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
                yield job, [], f"{type(error).__name__}: {lines[-1] if lines else ''}"[:300]


def trial_test_scores(trials: pd.DataFrame, jobs: list[dict]) -> pd.DataFrame:
    """Long (experiment, trial, domain, task, test) of the planned trials, from what they reported."""
    from dabs_lib.experiment import TEST_PREFIX

    planned = {(j["experiment"], j["trial"]) for j in jobs}
    rows = []
    for _, row in trials.iterrows():
        if (row["experiment"], row["trial"]) not in planned:
            continue
        for column in [c for c in trials.columns if c.startswith(TEST_PREFIX)]:
            if pd.notna(row[column]):
                rows.append(
                    {
                        "experiment": row["experiment"],
                        "trial": row["trial"],
                        "domain": row["domain"],
                        "task": column[len(TEST_PREFIX) :],
                        "test": float(row[column]),
                    }
                )
    return pd.DataFrame(rows, columns=["experiment", "trial", "domain", "task", "test"])
