"""From experiment folders to a report folder: tables, configs, importance, plots, README.

    report = load_report(["runs/dev"])            # reads files only: no Ray, no training
    export_report(report, "reports/dev")          # tables + configs (fast)
    analyze(["runs/dev"], "reports/dev", seeds=3) # everything, re-running seeds in a private Ray

Layout of a report folder:
    README.md                         what the search found, links to everything below
    tables/best_configs.{md,csv,tex,json}   best trial per (domain, objective) + trial counts
    tables/transfer.{md,csv,tex,json}       test scores: best vs DABS default vs random init
    tables/importance.{md,csv,tex,json}     hyperparameter importance (analyze only)
    tables/results.csv                      every trial x evaluation (the tidy results table)
    configs/<domain>-<objective>.yaml       `run_search.py pretrain --config` reproduces the trial
    plots/*.png                             progress, parallel coordinates, gain heat map, ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from analysis import tables
from analysis.exports import write_best_configs, write_table
from analysis.results import ExperimentError, load_experiment, read_manifest, trial_table
from analysis.seeds import SEEDS_DIR
from typing import Any

if TYPE_CHECKING:  # optuna is imported lazily where a study is opened
    import optuna


@dataclass
class Report:
    paths: list[Path]
    which: str
    results: pd.DataFrame  # one row per (trial, evaluation)
    trials: pd.DataFrame  # one row per trial
    studies: list[tuple[str, str, str]]  # (domain, objective, manifest status) of every experiment
    searched: dict[tuple[str, str], list[str]]  # searched params per (domain, objective)
    best: pd.DataFrame  # tables.select_best
    best_configs: pd.DataFrame
    transfer: pd.DataFrame
    averages: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    directions: dict[tuple[str, str], bool] = field(default_factory=dict)
    seeds: int = 0  # 0: scores are the trials' own (n_seeds 1)
    files: dict[str, object] = field(default_factory=dict)  # what was written, for the README
    extras: dict[str, object] = field(default_factory=dict)  # risk / invariance tables
    scores: pd.DataFrame | None = None  # the long per-seed scores the transfer table was built from

    @property
    def name(self) -> str:
        return "+".join(p.name for p in self.paths)


def study_files(report: Report) -> dict[tuple[str, str, str], Path]:
    """(experiment, domain, objective) -> experiment folder, for every searched study (its
    Optuna study is read from the folder's journal: dabs_lib.experiment.load_study)."""
    out = {}
    for path in report.paths:
        for study in read_manifest(path)["studies"]:
            if study["objective"] != tables.BASELINE:
                out[(path.name, study["domain"], study["objective"])] = path
    return out


def _searched(paths: list[Path], trials: pd.DataFrame) -> dict[tuple[str, str], list[str]]:
    """Searched param names per (domain, objective): the study's Optuna distributions, else
    the params that vary among its trials."""
    from dabs_lib.experiment import journal_path, open_storage, study_name

    out: dict[tuple[str, str], list[str]] = {}
    for path in paths:
        storage = open_storage(path) if journal_path(path).is_file() else None
        studies = {s.study_name: s for s in storage.get_all_studies()} if storage else {}
        for study in read_manifest(path)["studies"]:
            key = (study["domain"], study["objective"])
            if key[1] == tables.BASELINE:
                continue
            names: list[str] = []
            found = studies.get(study_name(*key))
            for trial in storage.get_all_trials(found._study_id, deepcopy=False) if found else []:
                names += [n for n in trial.distributions if n not in names]
            out[key] = list(dict.fromkeys(out.get(key, []) + names))
    varying = tables.varying_params(trials)
    for key in out:
        if not out[key]:
            part = trials[(trials["domain"] == key[0]) & (trials["objective"] == key[1])]
            out[key] = [p for p in varying if p in part and part[p].nunique() > 1]
    return out


def domain_facts(trials: pd.DataFrame) -> tuple[dict, dict]:
    """(Domain.averages per domain, (domain, task) -> higher is better), from the domain
    registry; a domain that cannot be built here (data not copied) keeps what trials reported."""
    from dabs_lib.domains import get_domain
    from dabs_lib.domains.base import METRIC_DIRECTIONS

    from analysis.extras import domain_args

    averages, directions = {}, {}
    for domain, part in trials.groupby("domain"):
        try:
            built = get_domain(domain, **domain_args(part.iloc[0]))
        except (KeyError, ValueError, OSError, RuntimeError):
            continue
        averages[domain] = dict(built.averages)
        directions.update({(domain, n): METRIC_DIRECTIONS[t.metric] for n, t in built.tasks.items()})
    return averages, directions


def load_report(paths: list[str | Path], which: str = "last") -> Report:
    """Read experiments and build every table (no Ray, nothing re-run)."""
    if not paths:
        raise ExperimentError("give at least one experiment folder")
    tables.selection_column(which)
    paths = [Path(p).expanduser().resolve() for p in paths]
    results = pd.concat([load_experiment(p) for p in paths], ignore_index=True)
    trials = trial_table(results)
    studies = [(s["domain"], s["objective"], s["status"]) for p in paths for s in read_manifest(p)["studies"]]
    searched = _searched(paths, trials)
    all_searched = list(dict.fromkeys(n for names in searched.values() for n in names))
    best = tables.select_best(trials, which)
    best_configs = tables.best_config_table(trials, which, all_searched, [(d, o) for d, o, _ in studies])
    averages, directions = domain_facts(trials)
    report = Report(
        paths, which, results, trials, studies, searched, best, best_configs, pd.DataFrame(), averages, directions
    )
    set_scores(report, tables.role_scores(trials, best), seeds=0)
    return report


def set_scores(report: Report, scores: pd.DataFrame, seeds: int) -> None:
    """(Re)build the transfer table from long per-seed scores."""
    from analysis.seeds import versus_default

    report.scores = scores
    scores = tables.add_averages(scores, report.averages)
    transfer = tables.transfer_table(tables.summarize_scores(scores), report.directions, report.averages)
    verdicts = versus_default(scores, report.directions)[["domain", "objective", "task", "vs_default"]]
    report.transfer = transfer.merge(verdicts, on=["domain", "objective", "task"], how="left")
    report.seeds = seeds


def export_report(report: Report, out: str | Path) -> dict:
    """Tables and configs only (what `run_search.py export` writes)."""
    from analysis.readme import compact_best_configs, compact_transfer

    out = Path(out)
    if report.seeds:  # one name per table: re-run seeds' means are not the search's single runs
        seeds = tables.seeds_table(report.transfer)
        report.files[tables.SEEDS_TABLE] = write_table(
            seeds,
            out / "tables",
            tables.SEEDS_TABLE,
            paper=lambda decimals: tables.seeds_paper(seeds, decimals),
            caption=f"mean test score over {report.seeds} fresh seeds (95% interval, n) of the best trial per "
            "objective; random init first",
        )
    else:
        report.files[tables.SINGLE_RUN_TABLE] = write_table(
            tables.summary_table(report.transfer),
            out / "tables",
            tables.SINGLE_RUN_TABLE,
            caption="test score of the best trial per objective (one run each); random init first",
        )
    report.files["best_configs"] = write_table(
        report.best_configs,
        out / "tables",
        "best_configs",
        paper=compact_best_configs(report.best_configs),
        caption="trials per study and the best one (validation score)",
    )
    report.files["transfer"] = write_table(
        report.transfer,
        out / "tables",
        "transfer",
        paper=lambda decimals: compact_transfer(report.transfer, decimals),
        caption="test scores: best trial vs DABS default vs random init",
    )
    results = out / "tables" / "results.csv"
    report.results.to_csv(results, index=False)
    report.files["results"] = results
    report.files["configs"] = write_best_configs(report.best, out / "configs")
    return report.files


def default_out(report: Report) -> Path:
    return Path("reports") / report.name


def optuna_studies(report: Report) -> dict[tuple[str, str, str], "optuna.Study"]:
    """(experiment, domain, objective) -> the real Optuna study (from the experiment's journal)
    of every searched study that was started."""
    from dabs_lib.experiment import ExperimentError, load_study  # the one reader of the journal

    studies = {}
    for (experiment, domain, objective), path in study_files(report).items():
        try:
            studies[(experiment, domain, objective)] = load_study(path, domain, objective)
        except ExperimentError:
            continue  # not started: nothing to plot
    return studies


def _write_plots(report: Report, out: Path, extras: dict) -> dict[str, Path]:
    from analysis import plots, plots_trials

    folder = out / "plots"
    written = {
        "search progress": plots.plot_progress(report.trials, folder / "progress.png"),
        "learning curves": plots_trials.plot_learning_curves(report.results, folder / "learning_curves.png"),
        "searched parameters": plots.plot_parallel(report.trials, report.searched, folder / "parallel.png"),
    }
    cost = read_manifest(report.paths[0]).get("request", {}).get("multi_objective", "")
    if cost:
        written["Pareto front"] = plots_trials.plot_pareto(report.trials, cost, folder / "pareto.png")
    written.update(plots_trials.optuna_plots(optuna_studies(report), folder / "optuna", cost))
    if not report.transfer.empty:
        written["gain over random init"] = plots.plot_gain(report.transfer, folder / "gain.png")
    if extras.get("risk") is not None:
        written["risk decomposition"] = plots.plot_risk(extras["risk"], folder / "risk.png")
    if extras.get("invariance"):
        written["invariance"] = plots.plot_invariance(extras["invariance"], folder / "invariance.png")
    return written


def _write_shared(report: Report, out: Path, seeds: int, num_cpus: int, smoke_test: bool) -> list[str]:
    """tables/shared.*: a cross-domain study's universal best vs each domain's own best (analysis.shared)."""
    from analysis.shared import shared_report

    request = read_manifest(report.paths[0]).get("request", {})
    table, notes = shared_report(
        report.trials,
        report.directions,
        seeds,
        out / SEEDS_DIR,
        num_cpus,
        float(request.get("cpus_per_trial", 1.0)),
        float(request.get("gpus_per_trial", 0.0)),
        smoke_test,
    )
    if not table.empty:
        report.files["shared"] = write_table(
            table, out / "tables", "shared", caption="one configuration for every domain vs each domain's own best"
        )
    return notes


def analyze(
    report: Report,
    out: str | Path | None = None,
    seeds: int = 0,
    risk: bool = False,
    invariance: bool = False,
    num_cpus: int = 0,
    smoke_test: bool = False,
    all_trials: bool = False,
    combine: bool = False,
    address: str = "",
    progress: bool = True,
) -> tuple[Path, list[str]]:
    """Write the whole report (see the module doc) for a loaded report. Returns its folder and
    the notes a reader must see (errored, pruned or running trials, skipped parts)."""
    from analysis.extras import run_extras
    from analysis.importance import importance_table
    from analysis.readme import readme_text, status_notes, warm_notes, warning_notes
    from dabs_lib.safe_io import kill_point

    out = Path(out) if out else default_out(report)
    notes = status_notes(report.trials, report.studies) + warm_notes(report.trials, report.best_configs)
    notes += warning_notes(report.paths)
    if seeds:
        from analysis.seeds import seed_scores

        request = read_manifest(report.paths[0]).get("request", {})
        scores, seed_notes = seed_scores(
            report.trials,
            report.best,
            seeds,
            out / SEEDS_DIR,
            num_cpus,
            float(request.get("cpus_per_trial", 1.0)),
            float(request.get("gpus_per_trial", 0.0)),
            smoke_test=smoke_test,
        )
        notes += seed_notes
        set_scores(report, scores, seeds)
    why = _why(report, out, risk, invariance, all_trials, combine, num_cpus, address, progress)
    notes += why["notes"]
    export_report(report, out)
    report.files.update(why["files"])
    notes += _write_shared(report, out, seeds, num_cpus, smoke_test)
    report.files["importance"] = write_table(importance_table(study_files(report)), out / "tables", "importance")
    best_only = (risk or invariance) and not all_trials
    extras = run_extras(report.trials, report.best, risk, invariance) if best_only else {}
    notes += extras.get("notes", [])
    if extras.get("risk") is not None:
        report.files["risk"] = write_table(extras["risk"], out / "tables", "risk")
    for domain, matrix in extras.get("invariance", {}).items():
        report.files[f"invariance {domain}"] = write_table(matrix.reset_index(), out / "tables", f"invariance-{domain}")
    report.files["plots"] = {**_write_plots(report, out, extras), **why["plots"]}
    kill_point("report-write")  # test-only: the tables are written, the README (written last) not yet
    (out / "README.md").write_text(readme_text(report, out, notes))
    return out, notes


def _why(
    report: Report,
    out: Path,
    risk: bool,
    invariance: bool,
    all_trials: bool,
    combine: bool,
    num_cpus: int,
    address: str,
    progress: bool,
) -> dict:
    """--all-trials (every trial's invariance/risk against transfer) and --combine (concatenated
    encoders, whose rows join the transfer table); see analysis.why."""
    found: dict = {"files": {}, "plots": {}, "notes": []}
    if all_trials:
        from analysis.why import all_trials_part

        part, notes = all_trials_part(
            report, out, invariance or not risk, risk or not invariance, num_cpus, address, progress=progress
        )
        found["files"].update(part.get("files", {}))
        found["plots"].update(part.get("plots", {}))
        found["notes"] += notes
    if combine:
        from analysis.combine import as_role_scores
        from analysis.why import combine_part

        long, files, notes = combine_part(report, out)
        found["files"].update(files)
        found["notes"] += notes
        if not long.empty:
            scores = report.scores if report.scores is not None else tables.role_scores(report.trials, report.best)
            set_scores(report, pd.concat([scores, as_role_scores(long, scores)], ignore_index=True), report.seeds)
    return found


def analyze_paths(
    paths: list[str | Path], out: str | Path | None = None, which: str = "last", **options: Any
) -> tuple[Path, list[str]]:
    """load_report + analyze: the one call the quickstart and scripts need."""
    return analyze(load_report(paths, which), out, **options)
