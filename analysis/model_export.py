"""`export-model`: the encoders a search found, as self-contained model folders.

    paths = export_models("runs/exp", "models")   # models/exp/<domain>-<objective>/ per searched study

Which trials: the best of each (domain, objective) study, chosen by analysis.tables.select_best
(the report's own choice), or one study (`study`), or one trial (`trial`). Scores come from the
report's transfer table: with its 95% intervals when `analyze --seeds` wrote the report folder
(`report_dir`, default reports/<experiment>), else the trial's own test scores (n_seeds 1).
The folder's format is dabs_lib.model_folder's.
"""

from __future__ import annotations

import datetime
import json
import math
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import tables
from analysis.exports import MACHINE_KEYS, trial_config
from analysis.model_card import card_text
from analysis.report import Report, default_out, load_report
from dabs_lib.experiment import ENCODER_FILE, ExperimentError, split_study, study_name

# card/config.json score field <- transfer table column (analysis.tables.transfer_table)
SCORE_FIELDS = {
    "task": "task",
    "score": "best",
    "ci95": "best_ci95",
    "n_seeds": "n_seeds",
    "default": "default",
    "default_ci95": "default_ci95",
    "baseline": "baseline",
    "baseline_ci95": "baseline_ci95",
}


def pick_trials(report: Report, study: str = "", trial: str = "") -> pd.DataFrame:
    """Rows of the trial table to export: the best per study, one study's best, or one trial."""
    if trial:
        found = report.trials[report.trials["trial"] == trial]
        if found.empty:
            raise ExperimentError(
                f"--trial must name a trial folder of the experiment, e.g. "
                f"{report.trials['trial'].iloc[0]}, but got {trial!r}"
            )
        row = found.iloc[0]
        if row["status"] != "completed" or not row.get("checkpoint"):
            raise ExperimentError(
                f"--trial {trial}: only a completed trial with a checkpoint can be exported, but it is {row['status']}"
            )
        return found.head(1).reset_index(drop=True)
    best = report.best
    if study:
        domain, objective = split_study(study)
        best = best[(best["domain"] == domain) & (best["objective"] == objective)]
        if best.empty:
            known = [study_name(d, o) for d, o in zip(report.best["domain"], report.best["objective"])]
            raise ExperimentError(
                f"--study must name a study with a completed trial, one of {known}, but got {study!r}"
            )
    if best.empty:
        raise ExperimentError(f"{report.name}: no completed trial to export")
    return best.reset_index(drop=True)


def transfer_rows(report: Report, report_dir: Path | None) -> tuple[pd.DataFrame, str]:
    """(transfer table, where it came from): a report folder's (with --seeds) when it exists."""
    folder = Path(report_dir) if report_dir else default_out(report)
    path, chosen = folder / "tables" / "transfer.json", folder / "tables" / "best_configs.json"
    if path.is_file() and chosen.is_file():
        saved = pd.DataFrame(json.loads(path.read_text()))
        if not saved.empty and "best_trial" in saved and same_choice(report, json.loads(chosen.read_text())):
            return saved, str(path)
        if report_dir:
            raise ExperimentError(
                f"--report must be the report of {report.name} (same best trials and scores), "
                f"but {chosen} chose other trials"
            )
    elif report_dir:
        raise ExperimentError(f"--report must be a report folder written by `analyze`, but {path} does not exist")
    return report.transfer, "the trials' own test scores (one seed)"


def same_choice(report: Report, saved: list[dict[str, Any]]) -> bool:
    """Whether a report folder was made from these experiments: the same best trial with the same
    validation score in every study (a stale reports/<name> of an older search is not)."""

    def key(rows: list[dict[str, Any]]) -> set[tuple]:
        return {
            (r.get("experiment"), r.get("domain"), r.get("objective"), r.get("trial"), r.get("val_score"))
            for r in rows
            if r.get("trial") is not None and r.get("trial") == r.get("trial")
        }

    return key(saved) == key(report.best_configs.to_dict("records"))


def scores_of(transfer: pd.DataFrame, row: pd.Series) -> list[dict[str, Any]]:
    """Per task of the trial's study: its score (and interval), with default and random init beside it.
    A trial that is not its study's best in `transfer` gets its own reported scores only."""
    part = transfer[(transfer["domain"] == row["domain"]) & (transfer["objective"] == row["objective"])]
    part = part[part["best_trial"] == row["trial"]]
    if not part.empty:
        return [{k: _plain(r.get(column)) for k, column in SCORE_FIELDS.items()} for r in part.to_dict("records")]
    out = []
    for column in [c for c in row.index if str(c).startswith("test/")]:
        if pd.notna(row[column]):
            out.append(
                {
                    "task": column[len("test/") :],
                    "score": float(row[column]),
                    "ci95": None,
                    "n_seeds": 1,
                    "default": None,
                    "default_ci95": None,
                    "baseline": None,
                    "baseline_ci95": None,
                }
            )
    return out


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return None if isinstance(value, float) and math.isnan(value) else value


def _commit() -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def data_facts(domain_name: str, args: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """(config.json's `data`, the domain or None): build arguments and every split's fingerprint,
    through the one domain interface (built-in or a user's domain file alike)."""
    from dabs_lib.domains import get_domain

    build = {"seed": args["seed"], "smoke": args["smoke"]}
    try:
        domain = get_domain(domain_name, **args)
    except (KeyError, ValueError, OSError, RuntimeError) as error:
        return {
            "domain": domain_name,
            "build": build,
            "fingerprints": {},
            "note": f"the domain could not be built where the export ran: {str(error).splitlines()[0]}",
        }, None
    prints = {"pretrain": getattr(domain.pretrain, "fingerprint", "")}
    for name, task in domain.tasks.items():
        for split in ("train", "val", "test"):
            data = getattr(task, split)
            if data is not None:
                prints[f"{name}/{split}"] = getattr(data, "fingerprint", "")
    tasks = {n: {"kind": t.kind, "metric": t.metric, "num_classes": t.num_classes} for n, t in domain.tasks.items()}
    data = {
        "domain": domain_name,
        "build": build,
        "fingerprints": prints,
        "tasks": tasks,
        "default_task": domain.default_task,
    }
    record = _user_preprocessing(domain_name, args["data_root"])
    if record is not None:  # a user's domain: how its files were read
        data["preprocessing"] = record[0]
    return data, domain


def _user_preprocessing(domain_name: str, data_root: str) -> tuple[dict[str, Any], dict[str, Path]] | None:
    """A registered user domain's preprocessing record and the files it names; None for other domains."""
    from dabs_lib.userdomain.registered import is_registered

    if not is_registered(domain_name, data_root):
        return None
    from dabs_lib.userdomain.portable import preprocessing_record

    return preprocessing_record(domain_name, data_root)


def preprocessing_files(domain_name: str, data_root: str) -> dict[str, Path]:
    """The files a user domain's record names (a text input's tokenizer), to go into the model folder."""
    record = _user_preprocessing(domain_name, data_root)
    return record[1] if record is not None else {}


def observed_sample(domain: Any, rows: int = 256) -> tuple | None:
    """The first `rows` pretraining inputs, one tensor per input (the value range config.json records)."""
    import torch

    from dabs_lib.transfer.features import iterate_batches

    if domain is None or len(domain.pretrain) == 0:
        return None
    inputs, _ = next(iterate_batches(domain.pretrain, min(rows, len(domain.pretrain))))
    return tuple(torch.as_tensor(x) for x in inputs)


def budget_of(report: Report, row: pd.Series) -> dict[str, Any]:
    """The search's budget and the study's trial counts (what the winner was chosen among)."""
    from analysis.results import read_manifest

    request = read_manifest(Path(row["study_dir"])).get("request", {})
    keys = ("num_samples", "sampler", "scheduler", "seed", "multi_objective", "smoke_test", "overrides")
    out = {k: request[k] for k in keys if k in request}
    counts = report.best_configs
    match = counts[(counts["domain"] == row["domain"]) & (counts["objective"] == row["objective"])]
    if not match.empty:
        out["trials"] = {
            k: int(match.iloc[0][k]) for k in ("trials", "completed", "pruned", "errored", "running") if k in match
        }
    return out


def probe_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The linear probe's settings the trial was scored with (its L2 path): what re-probing needs."""
    from dabs_lib.experiment import TrialSettings

    return {k: config.get(k, getattr(TrialSettings, k)) for k in ("l2_min", "l2_max", "l2_steps")}


def model_name(row: pd.Series, picked_trial: bool) -> str:
    """`<domain>-<objective>`; an explicitly picked trial adds its number (it may not be the best)."""
    name = study_name(row["domain"], row["objective"])
    return f"{name}-{tables.trial_number(row['trial']):03d}" if picked_trial else name


def export_one(
    report: Report,
    row: pd.Series,
    out: Path,
    transfer: tuple[pd.DataFrame, str],
    version: str,
    picked_trial: bool = False,
) -> Path:
    """One model folder for one trial row (trial table / select_best)."""
    from analysis.extras import domain_args
    from dabs_lib.checkpoints import load_encoder
    from dabs_lib.model_folder import describe_inputs, write_model_folder

    if not isinstance(row.get("checkpoint"), str) or not row["checkpoint"]:
        raise ExperimentError(
            f"trial {row['trial']} kept no checkpoint of the evaluation it was chosen for "
            f"(--which {report.which}); export it with --which last"
        )
    checkpoint = Path(row["checkpoint"]) / ENCODER_FILE
    encoder = load_encoder(checkpoint)
    data, domain = data_facts(row["domain"], domain_args(row))
    config = trial_config(row["trial_dir"])
    searched = report.searched.get((row["domain"], row["objective"]), [])
    name = model_name(row, picked_trial)
    facts = {
        "name": name,
        "domain": row["domain"],
        "objective": row["objective"],
        "dabs_tune_version": version,
        "inputs": describe_inputs(encoder.specs, observed_sample(domain)),
        "data": data,
        "scores": scores_of(transfer[0], row),
        "scores_from": transfer[1],
        "hyperparameters": {k: config[k] for k in searched if k in config},
        "training_config": {k: v for k, v in config.items() if k not in MACHINE_KEYS},
        "probe": probe_settings(config),
        "budget": budget_of(report, row),
        "provenance": {
            "experiment": row["experiment"],
            "trial": row["trial"],
            "selection": report.which,
            "best_of_study": not picked_trial,
            "val_score": _plain(row.get(tables.METRIC)),
            "checkpoint": str(checkpoint),
            "commit": _commit(),
            "exported": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        },
    }
    files = preprocessing_files(row["domain"], domain_args(row)["data_root"]) if domain is not None else {}
    return write_model_folder(out / str(row["experiment"]) / name, encoder, facts, card_text(facts, encoder), files)


def export_models(
    experiment: str | Path,
    out: str | Path,
    study: str = "",
    trial: str = "",
    which: str = "last",
    report_dir: str | Path | None = None,
    version: str = "unknown",
) -> list[Path]:
    """Model folders under `out`/<experiment>/ for the picked trials; returns them."""
    report = load_report([experiment], which)
    rows = pick_trials(report, study, trial)
    transfer = transfer_rows(report, Path(report_dir) if report_dir else None)
    return [export_one(report, row, Path(out), transfer, version, bool(trial)) for _, row in rows.iterrows()]
