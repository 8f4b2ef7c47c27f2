"""Why do encoders transfer? The report's `--all-trials` and `--combine` parts (the edge: files, Ray, plots).

    files, notes = all_trials_part(report, "reports/x", invariance=True, risk=True, num_cpus=2)
    long, notes = combine_part(report, "reports/x")     # combined rows; report.transfer gets them

Report files:
    trials/<experiment>.<trial>.json          every finished trial's measures (resumable)
    tables/trial_measures.{md,csv,tex,json}   the same, one table
    tables/correlation.{...}                  Spearman rho per (domain, task, measure) with its interval
    tables/combined.{...}                     each combination of 2+ encoders against its best member
    plots/correlation-<domain>.png            rho and interval of every measure
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from analysis.exports import write_table
from analysis.extras import SUPERVISED, domain_args, domain_checkpoints
from analysis.seeds import SEEDS_DIR
from analysis.tables import BASELINE

if TYPE_CHECKING:
    from analysis.report import Report
    from dabs_lib.transfer.protocol import ProbeProtocol

TRIALS_DIR = "trials"  # per-trial measure files under the report folder


def all_trials_part(
    report: Report,
    out: Path,
    invariance: bool,
    risk: bool,
    num_cpus: int = 0,
    address: str = "",
    num_samples: int = 0,
    progress: bool = True,
) -> tuple[dict, list[str]]:
    """Measure every finished trial, correlate with its test scores, write tables and plots."""
    from analysis.correlate import (
        METHOD,
        N_RESAMPLES,
        correlation_table,
        domain_sentences,
    )
    from analysis.plots_correlation import plot_correlations
    from analysis.trial_measures import measure_trials, trial_plan, trial_test_scores

    jobs = trial_plan(report.trials)
    if not jobs:
        return {}, ["--all-trials: no completed searched trial has an encoder checkpoint"]
    measures, notes = measure_trials(
        jobs, out / TRIALS_DIR, invariance, risk, num_cpus, address, num_samples=num_samples, progress=progress
    )
    table = correlation_table(measures, trial_test_scores(report.trials, jobs))
    files: dict = {
        "trial_measures": write_table(
            measures,
            out / "tables",
            "trial_measures",
            caption="invariance scores and risk components of every finished trial",
        ),
        "correlation": write_table(
            table,
            out / "tables",
            "correlation",
            caption=f"Spearman rho with the test score across trials; 95% {METHOD} "
            f"bootstrap interval ({N_RESAMPLES} resamples, seed 0)",
        ),
    }
    plots = {
        f"{domain}: correlation with transfer": plot_correlations(
            table, domain, out / "plots" / f"correlation-{domain}.png"
        )
        for domain in table["domain"].unique()
    }
    return {"files": files, "plots": plots, "table": table}, notes + list(domain_sentences(table).values())


def seed_encoders(folder: Path, trials: pd.DataFrame, best: pd.DataFrame) -> dict[str, dict[int, dict[str, str]]]:
    """domain -> seed -> objective -> encoder of the best config's fresh-seed re-run (newest run wins)."""
    from analysis.seeds import finished_cells, rerun_plan
    from dabs_lib.experiment import ENCODER_FILE

    _, uses = rerun_plan(trials, best)
    out: dict[str, dict[int, dict[str, str]]] = {}
    runs = sorted((p for p in folder.glob("seeds_*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    # newest grid first: its run of a cell wins
    for (label, seed), trial_dir in finished_cells(runs).items():
        checkpoints = sorted(trial_dir.glob(f"checkpoint_*/{ENCODER_FILE}"))
        if not checkpoints:
            continue
        for domain, objective, role in uses.get(label, []):
            if role == "best" and objective not in (BASELINE, SUPERVISED):
                out.setdefault(domain, {}).setdefault(seed, {})[objective] = str(checkpoints[-1])
    return out


def own_encoders(trials: pd.DataFrame, best: pd.DataFrame) -> dict[str, dict[int, dict[str, str]]]:
    """domain -> {-1: objective -> encoder of its best trial} (the trials' own runs; seed -1: none)."""
    out = {}
    for domain, found in domain_checkpoints(trials, best).items():
        searched = {k: v for k, v in found.items() if k not in (BASELINE, SUPERVISED)}
        if searched:
            out[domain] = {-1: searched}
    return out


def _protocol(trials: pd.DataFrame, domain: str) -> ProbeProtocol:
    from analysis.trial_measures import protocol_settings
    from dabs_lib.experiment import TrialSettings, probe_protocol

    return probe_protocol(TrialSettings(**protocol_settings(trials[trials["domain"] == domain].iloc[0])))


def combine_part(report: Report, out: Path, pairs: bool = True) -> tuple[pd.DataFrame, dict, list[str]]:
    """(combined long scores, files, notes); probes every seed's best encoders side by side."""
    from analysis.combine import combined_scores, combined_vs_single, width_sentences
    from dabs_lib.domains import get_domain

    encoders = (
        seed_encoders(out / SEEDS_DIR, report.trials, report.best)
        if report.seeds
        else own_encoders(report.trials, report.best)
    )
    parts, notes = [], []
    for domain, by_seed in encoders.items():
        part = report.trials[report.trials["domain"] == domain].iloc[0]
        built = get_domain(domain, **domain_args(part))
        widest = max(len(found) for found in by_seed.values())
        protocol = _protocol(report.trials, domain)
        if widest < 2:
            notes.append(f"--combine: {domain} has one searched objective with a checkpoint; nothing to combine")
            continue
        for seed, found in sorted(by_seed.items()):
            if len(found) < widest:
                continue  # a seed whose re-run of some objective failed: its combinations would differ
            rows = combined_scores(dict(sorted(found.items())), built, protocol, pairs, control_seed=max(seed, 0))
            parts.append(rows.assign(seed=float("nan") if seed < 0 else seed))
    long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    files = {}
    if not long.empty:
        versus = combined_vs_single(long)
        files["combined"] = write_table(
            versus,
            out / "tables",
            "combined",
            caption="combined encoders (concatenated pooled features) against their best single member "
            "(gain > 0: the combination is better) and against the same architectures untrained "
            "(width_gain: what width alone gives; gain_over_width > 0: the training adds more)",
        )
        notes += width_sentences(versus)
    return long, files, notes
