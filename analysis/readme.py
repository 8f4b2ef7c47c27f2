"""The report's README.md: what the search found, in a few lines, and links to every file."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from analysis.exports import markdown_table
from dabs_lib.experiment import study_name
from analysis.tables import BASELINE, winners


def status_notes(trials: pd.DataFrame, studies: list[tuple[str, str, str]]) -> list[str]:
    """One line per thing a reader must know before trusting the numbers."""
    searched = trials[trials["objective"] != BASELINE]
    counts = searched["status"].value_counts()
    notes = [f"{len(searched)} searched trials: {counts.get('completed', 0)} completed, "
             f"{counts.get('pruned', 0)} pruned (stopped early by the scheduler), {counts.get('errored', 0)} errored, "
             f"{counts.get('running', 0)} running; plus {int((trials['objective'] == BASELINE).sum())} "
             "random-init baseline trial(s)."]
    for row in trials[trials["status"] == "errored"].itertuples(index=False):
        notes.append(f"errored: {row.trial}: {row.error}")
    unfinished = sorted({study_name(d, o) for d, o, s in studies if s != "finished"})
    if unfinished:
        notes.append(f"not finished (still running or interrupted): {', '.join(unfinished)}; "
                     "numbers may change when the search goes on.")
    studied = {(d, o) for d, o, _ in studies if o != BASELINE}
    done = set(zip(*[searched.loc[searched["status"] == "completed", c] for c in ("domain", "objective")]))
    for domain, objective in sorted(studied - done):
        notes.append(f"{domain}/{objective}: no completed trial, so no best config and no test scores.")
    return notes


def finding_lines(transfer: pd.DataFrame) -> list[str]:
    """Per domain: which objective won (on its headline task) and its gains."""
    lines = []
    for row in winners(transfer).itertuples(index=False):
        def gain(value) -> str:
            return "n/a" if pd.isna(value) else f"{value:+.4f}"
        tie = f" (tied with {', '.join(row.tied)})" if row.tied else ""
        lines.append(f"**{row.domain}**: {row.objective}{tie} transfers best on `{row.task}`: test {row.best:.4f} "
                     f"vs random init {row.baseline:.4f} (gain {gain(row.gain_vs_baseline)}) and vs the untuned "
                     f"DABS default {row.default:.4f} (gain {gain(row.gain_vs_default)}); {row.n_seeds} seed(s)"
                     f"{'; ' + row.vs_default if isinstance(getattr(row, 'vs_default', None), str) else ''}.")
    return lines


def _rel(path: Path, root: Path) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def _table_links(name: str, paths: dict, root: Path) -> str:
    return f"- {name}: " + ", ".join(f"[{fmt}]({_rel(p, root)})" for fmt, p in paths.items())


def compact_transfer(transfer: pd.DataFrame) -> pd.DataFrame:
    """The transfer table as a reader wants it: score +- interval when seeds were run."""
    def fmt(score, ci) -> str:
        if pd.isna(score):
            return ""
        return f"{score:.4f}" if pd.isna(ci) else f"{score:.4f} ± {ci:.4f}"
    out = transfer[["domain", "objective", "task"]].copy()
    for role, title in (("best", "best"), ("default", "DABS default"), ("baseline", "random init")):
        out[title] = [fmt(s, c) for s, c in zip(transfer[role], transfer[f"{role}_ci95"])]
    out["gain vs random init"] = transfer["gain_vs_baseline"]
    out["gain vs default"] = transfer["gain_vs_default"]
    out["n_seeds"] = transfer["n_seeds"]
    if "vs_default" in transfer:
        out["vs default"] = transfer["vs_default"]
    return out


def readme_text(report, root: Path, notes: list[str]) -> str:
    """README.md of the report folder `root`; `report` is analysis.report.Report."""
    seeds = (f"mean ± 95% t-interval over {report.seeds} fresh seeds" if report.seeds
             else "single runs (n_seeds = 1; `--seeds k` re-runs them for 95% intervals)")
    lines = [f"# Search report: {report.name}", "",
             "Experiments: " + ", ".join(f"`{p}`" for p in report.paths), "",
             f"Best trial per (domain, objective): the completed trial with the best validation transfer score "
             f"(`which={report.which}`). Test scores are {seeds}.", ""]
    if report.which == "best-ever":
        lines += ["`best-ever` ranks trials by the best validation score they reported at any evaluation; "
                  "their test scores (and exported configs) are those of the full run, the only ones a trial "
                  "reports.", ""]
    lines += ["## What the search found", ""]
    lines += [f"- {line}" for line in finding_lines(report.transfer) + notes]
    lines += ["", "## Transfer scores (test split)", "", markdown_table(compact_transfer(report.transfer)), "## Files", ""]
    files = report.files
    for key, paths in files.items():
        if key not in ("configs", "plots") and isinstance(paths, dict):
            lines.append(_table_links(key.replace("_", " "), paths, root))
    if "results" in files:
        lines.append(f"- every trial x evaluation: [results.csv]({_rel(files['results'], root)})")
    for (domain, objective), path in sorted(files.get("configs", {}).items()):
        lines.append(f"- config {domain}/{objective}: [{path.name}]({_rel(path, root)}) "
                     f"(`python run_search.py pretrain --config {path}` reproduces it)")
    for name, path in files.get("plots", {}).items():
        lines += ["", f"### {name}", "", f"![{name}]({_rel(path, root)})"]
    return "\n".join(lines) + "\n"
