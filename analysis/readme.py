"""The report's README.md: what the search found, in a few lines, and links to every file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis.exports import SCORE_DECIMALS, markdown_table
from dabs_lib.experiment import STUDY, WARM_ATTR, is_shared, split_study, study_name
from analysis.tables import BASELINE, SEEDS_TABLE, SINGLE_RUN_TABLE, winners
from dabs_lib import trial_warnings
from dabs_lib.invocation import command

if TYPE_CHECKING:
    from analysis.report import Report


def status_notes(trials: pd.DataFrame, studies: list[tuple[str, str, str]]) -> list[str]:
    """One line per thing a reader must know before trusting the numbers."""
    searched = trials[trials["objective"] != BASELINE]
    counts = searched["status"].value_counts()
    diverged = trials["error"].fillna("").astype(str).str.startswith("diverged") & (trials["status"] == "pruned")
    notes = [
        f"{len(searched)} searched trials: {counts.get('completed', 0)} completed, "
        f"{counts.get('pruned', 0)} pruned (stopped early by the scheduler, or {int(diverged.sum())} of them "
        f"by their own divergence), {counts.get('errored', 0)} errored, "
        f"{counts.get('running', 0)} running; plus {int((trials['objective'] == BASELINE).sum())} "
        "random-init baseline trial(s)."
    ]
    for row in trials[(trials["status"] == "errored") | diverged].itertuples(index=False):
        notes.append(f"{row.status}: {row.trial}: {row.error}")
    retried = trials[trials.get("retries", pd.Series(0, index=trials.index)).fillna(0) > 0]
    if len(retried):
        notes.append(
            f"{int(retried['retries'].sum())} retries from the last checkpoint after an error (a dead "
            "worker, an exception): "
            + ", ".join(f"{r.trial} ({int(r.retries)}, now {r.status})" for r in retried.itertuples(index=False))
        )
    notes += probe_share_notes(searched)
    unfinished = sorted({study_name(d, o) for d, o, s in studies if s != "finished"})
    if unfinished:
        notes.append(
            f"not finished (still running or interrupted): {', '.join(unfinished)}; "
            "numbers may change when the search goes on."
        )
    studied = {(d, o) for d, o, _ in studies if o != BASELINE}
    completed = searched[searched["status"] == "completed"]
    done = set(zip(completed["domain"], completed["objective"]))
    if STUDY in completed:  # a cross-domain study's trials sit on their domains: (SHARED, objective) is done too
        done |= {split_study(str(s)) for s in completed[STUDY] if is_shared(str(s))}
    for domain, objective in sorted(studied - done):
        notes.append(f"{domain}/{objective}: no completed trial, so no best config and no test scores.")
    return notes


def warm_notes(trials: pd.DataFrame, best_configs: pd.DataFrame) -> list[str]:
    """Per study that --warm-start seeded: its carried-over trials, and whether one of them is the best."""
    if WARM_ATTR not in trials or not trials[WARM_ATTR].fillna(False).astype(bool).any():
        return []
    warm = trials[trials[WARM_ATTR].fillna(False).astype(bool)]
    best = {(r.domain, r.objective): r.trial for r in best_configs.itertuples(index=False)} if len(best_configs) else {}
    notes = []
    for (domain, objective), group in warm.groupby(["domain", "objective"], sort=True):
        names = ", ".join(sorted(group["trial"]))
        winner = best.get((domain, objective))
        verdict = (
            f"the best trial, {winner}, is one of them"
            if winner in set(group["trial"])
            else f"the best trial is {winner}, not one of them"
            if winner
            else "no trial completed"
        )
        notes.append(
            f"{domain}/{objective}: {len(group)} configuration(s) carried over by --warm-start ({names}; "
            f"{int((group['status'] == 'completed').sum())} completed): {verdict}."
        )
    return notes


PROBE_SHARE_HIGH = 0.25  # above this median share of trial time, the report says how to probe less


def probe_share_notes(searched: pd.DataFrame) -> list[str]:
    """The in-search probe's median share of trial time per study, and what to do when it is high."""
    if "probe_share" not in searched or searched["probe_share"].isna().all():
        return []
    shares = searched.dropna(subset=["probe_share"]).groupby(["domain", "objective"])["probe_share"].median()
    notes = [
        "in-search probe (featurize + L2 path at every evaluation), median share of trial time: "
        + ", ".join(f"{d}/{o} {share:.0%}" for (d, o), share in shares.items())
        + "."
    ]
    high = [f"{d}/{o}" for (d, o), share in shares.items() if share > PROBE_SHARE_HIGH]
    if high:
        notes.append(
            f"the probe takes over {PROBE_SHARE_HIGH:.0%} of trial time in {', '.join(high)}: raise "
            "eval_every (--set eval_every=N) so trials spend their time pretraining."
        )
    return notes


def warning_notes(paths: list) -> list[str]:
    """Each distinct warning the trials' code logged (e.g. a dataset built without one of its
    transfer sets), as reported in their results: a reader must know what the numbers lack."""
    results = []
    for path in paths:
        for file in sorted(Path(path).rglob("result.json")):
            for line in file.read_text(errors="replace").splitlines():
                try:
                    results.append(json.loads(line))
                except ValueError:
                    continue  # a line cut by a killed writer
    return [f"warning (from the trials): {line}" for line in trial_warnings.split(results)]


def finding_lines(transfer: pd.DataFrame) -> list[str]:
    """Per domain: which objective won (on its headline task) and its gains."""
    from analysis.combine import JOIN

    lines = []
    for row in winners(transfer).itertuples(index=False):

        def gain(value: float) -> str:
            return "n/a" if pd.isna(value) else f"{value:+.4f}"

        def score(value: float) -> str:  # never "nan": no completed trial (errored, or its files damaged)
            return "no score (no completed trial)" if pd.isna(value) else f"{value:.4f}"

        tie = f" (tied with {', '.join(row.tied)})" if row.tied else ""
        default = "none (a combination has no default)" if JOIN in row.objective else score(row.default)
        lines.append(
            f"**{row.domain}**: {row.objective}{tie} transfers best on `{row.task}`: test {score(row.best)} "
            f"vs random init {score(row.baseline)} (gain {gain(row.gain_vs_baseline)}) and vs the untuned "
            f"DABS default {default} (gain {gain(row.gain_vs_default)}); {row.n_seeds} seed(s)"
            f"{'; ' + row.vs_default if isinstance(getattr(row, 'vs_default', None), str) else ''}."
        )
    return lines


def _rel(path: Path, root: Path) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


TABLE_NOTES = {  # one line on how to read each table (keys: report.files)
    SINGLE_RUN_TABLE: "one run per config (the table the search printed and saved as "
    f"`<experiment>/{SINGLE_RUN_TABLE}.*`): test score of each objective's best trial per domain "
    "and task, random init first; compare along a row",
    SEEDS_TABLE: "the best trial, per objective, re-run on fresh seeds: mean test score ± 95% interval (n = "
    "seeds) per domain and task, random init first; compare along a row",
    "best_configs": "per study: trials run (completed / pruned / errored) and the best one by validation score; "
    "the CSV/JSON add its hyperparameters",
    "transfer": "test scores of the best trial, the untuned DABS default and random init; a gain > 0 means the "
    "best trial beats that reference (LaTeX/Markdown: the paper columns; CSV/JSON: every column)",
    "importance": "how much each searched hyperparameter explains the validation score (fANOVA, PED-ANOVA; sums "
    "to 1 per study and evaluator); `skipped` says why a study has none",
    "shared": "cross-domain study: test scores of the universal best configuration (best mean normalized gain "
    "over random init), each domain's own best, the DABS default and random init; cost = own - universal "
    "(> 0: one configuration loses accuracy there), 95% intervals over --seeds",
    "risk": "error components of the best checkpoints (lower is better); they add up to the test error",
    "trial_measures": "invariance score per corruption family and risk components per task of every finished trial",
    "correlation": "Spearman rho of each measure with the test score across trials and its 95% percentile "
    "bootstrap interval; a risk component is an error, so rho < 0 means less of it, better transfer",
    "combined": "concatenated encoders against their best single member (gain > 0: the combination transfers "
    "better) and against their untrained twins of equal width (`untrained:` rows; gain_over_width > 0 beyond "
    "noise: more than width alone)",
}
PLOT_NOTES = {  # one line on how to read each plot (keys: the plot's title, after any "study: ")
    "search progress": "best validation score so far against trial number (left) and compute (right); dashed "
    "black: random init; a curve still rising wants more trials",
    "learning curves": "validation score of every trial against the optimizer step; dashed with an x: pruned "
    "by the scheduler where the x is",
    "searched parameters": "each line one trial through its hyperparameter values (axes scaled min to max, log "
    "when a range spans decades), coloured by validation score: bright lines cluster "
    "where good settings are",
    "gain over random init": "test-score gain of each objective's best trial over random init on the domain's "
    "headline task; blue beats random init, red loses to it",
    "Pareto front": "score against cost for every completed trial; the red line joins trials nothing beats on both",
    "risk decomposition": "stacked error components per checkpoint; the bar's height is the test error",
    "invariance": "whitened cosine between clean and corrupted features; 1: the encoder ignores the corruption",
    "correlation with transfer": "each dot a measure's rank correlation with the test score across the domain's "
    "trials, the bar its 95% bootstrap interval; bars off the grey line exclude 0",
    "optimization history": "Optuna: each trial's score in order and the best so far",
    "intermediate values": "Optuna: the score each trial reported at every evaluation (what the pruner saw)",
    "slices": "Optuna: score against each hyperparameter's value, darker dots are later trials",
    "parameter importances": "Optuna: fANOVA importance of each hyperparameter for the validation score",
}


def _table_links(name: str, paths: dict, root: Path) -> str:
    note = TABLE_NOTES.get(name, "")
    links = ", ".join(f"[{fmt}]({_rel(p, root)})" for fmt, p in paths.items())
    return f"- {name.replace('_', ' ')}: {links}" + (f"; {note}" if note else "")


def compact_transfer(transfer: pd.DataFrame, decimals: int = SCORE_DECIMALS) -> pd.DataFrame:
    """The transfer table as a reader wants it (README, Markdown, LaTeX): score ± 95% interval
    when seeds were run, and the gains; the full table stays in CSV and JSON."""

    def fmt(score: float, ci: float) -> str:
        if pd.isna(score):
            return ""
        return f"{score:.{decimals}f}" if pd.isna(ci) else f"{score:.{decimals}f} ± {ci:.{decimals}f}"

    out = transfer[["domain", "objective", "task"]].copy()
    for role, title in (("best", "best"), ("default", "DABS default"), ("baseline", "random init")):
        out[title] = [fmt(s, c) for s, c in zip(transfer[role], transfer[f"{role}_ci95"])]
    out["gain vs random init"] = transfer["gain_vs_baseline"]
    out["gain vs default"] = transfer["gain_vs_default"]
    out["n_seeds"] = transfer["n_seeds"]
    if "vs_default" in transfer:
        out["vs default"] = transfer["vs_default"]
    return out


def compact_best_configs(best_configs: pd.DataFrame) -> pd.DataFrame:
    """Trial counts and the winning trial per study; its hyperparameters are in the CSV and configs/."""
    columns = ["domain", "objective", "trials", "completed", "pruned", "errored", "trial", "val_score"]
    return best_configs[[c for c in columns if c in best_configs]]


def readme_text(report: Report, root: Path, notes: list[str]) -> str:
    """README.md of the report folder `root`; `report` is analysis.report.Report."""
    seeds = (
        f"mean ± 95% t-interval over {report.seeds} fresh seeds"
        if report.seeds
        else "single runs (n_seeds = 1; `--seeds k` re-runs them for 95% intervals)"
    )
    lines = [
        f"# Search report: {report.name}",
        "",
        "Experiments: " + ", ".join(f"`{p}`" for p in report.paths),
        "",
        f"Best trial per (domain, objective): the completed trial with the best validation transfer score "
        f"(`which={report.which}`). Test scores are {seeds}.",
        "",
    ]
    if report.which == "best-ever":
        lines += [
            "`best-ever` ranks trials by the best validation score they reported at any evaluation; "
            "their test scores (and exported configs) are those of the full run, the only ones a trial "
            "reports.",
            "",
        ]
    lines += ["## What the search found", ""]
    lines += [f"- {line}" for line in finding_lines(report.transfer) + notes]
    lines += [
        "",
        "## Transfer scores (test split)",
        "",
        markdown_table(compact_transfer(report.transfer)),
        "## Files",
        "",
    ]
    files: dict[str, Any] = report.files
    for key, paths in files.items():
        if key not in ("configs", "plots") and isinstance(paths, dict):
            lines.append(_table_links(key, paths, root))
    if "results" in files:
        lines.append(f"- every trial x evaluation: [results.csv]({_rel(files['results'], root)})")
    for (domain, objective), path in sorted(files.get("configs", {}).items()):
        lines.append(
            f"- config {domain}/{objective}: [{path.name}]({_rel(path, root)}) "
            f"(`{command(f'pretrain --config {path}')}` reproduces it)"
        )
    for name, path in files.get("plots", {}).items():
        note = PLOT_NOTES.get(name.split(": ")[-1], "")
        lines += ["", f"### {name}", "", *([note, ""] if note else []), f"![{name}]({_rel(path, root)})"]
    return "\n".join(lines) + "\n"
