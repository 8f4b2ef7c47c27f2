"""`summarize` (printed after every search), `analyze` and `export` (the work lives in analysis.report)."""
from __future__ import annotations

import pandas as pd

from cli.parser import invoked_name
import argparse


SUMMARY_STEM = "summary"  # <experiment>/summary.{md,csv,tex,json}: the table printed after a search


def summarize(uri: str) -> None:
    """Print the domain x objective table of a finished search and save it beside the search."""
    from analysis.exports import write_table
    from analysis.report import load_report
    from analysis.results import ExperimentError
    from analysis.tables import summary_table
    from trainables import storage

    local = storage.local_path(uri)
    try:
        table = summary_table(load_report([local]).transfer) if local else pd.DataFrame()
    except ExperimentError as error:
        print(error)
        return
    if table.empty:
        print("no completed trials" if local else f"{uri} is not on this machine: no summary table")
        return
    print("\nbest test score per domain and task (linear probe on the frozen encoder):")
    with pd.option_context("display.max_columns", 20, "display.width", 160, "display.float_format", "{:.4f}".format):
        print(table.to_string(index=False))
    paths = write_table(table, local, SUMMARY_STEM, caption="test score of the best trial per objective")
    print(f"saved: {', '.join(str(p) for p in paths.values())}")
    print(f"\nTensorBoard: {invoked_name()} tensorboard {uri}")


def _load(args: argparse.Namespace):
    """Validate the input (one-line errors, exit 2) and read the experiments."""
    from analysis.report import load_report

    from cli.errors import UserError, user_errors

    if getattr(args, "seeds", 0) < 0:
        raise UserError(f"--seeds must be >= 0, but got {args.seeds}")
    with user_errors():
        return load_report(args.experiment, args.which)


def cmd_analyze(args: argparse.Namespace) -> int:
    from analysis.readme import finding_lines
    from analysis.report import analyze

    report = _load(args)
    out, notes = analyze(report, args.out, seeds=args.seeds, risk=args.risk, invariance=args.invariance,
                         num_cpus=args.num_cpus, smoke_test=args.smoke_test)
    for line in finding_lines(report.transfer) + notes:
        print(line.replace("**", ""))
    print(f"report: {out / 'README.md'}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from analysis.report import default_out, export_report

    report = _load(args)
    out = args.out or default_out(report)
    files = export_report(report, out)
    print(f"tables: {', '.join(str(p) for key in ('best_configs', 'transfer') for p in files[key].values())}")
    print(f"all trials: {files['results']}")
    for path in files["configs"].values():
        print(f"config: {path}")
    return 0


def report_after_search(uri: str, seeds: int = 0, smoke_test: bool = False) -> str:
    """The quickstart's last step: analyze its own experiment (re-running best, default and
    baseline with `seeds` fresh seeds); its transfer table with n_seeds, and the README's path."""
    from analysis.readme import compact_transfer, finding_lines
    from analysis.exports import markdown_table
    from analysis.report import analyze, load_report
    from trainables import storage

    local = storage.local_path(uri)
    if local is None:
        return f"no report: {uri} is not on this machine; copy it here and run `{invoked_name()} analyze`"
    report = load_report([local])
    out, notes = analyze(report, seeds=seeds, smoke_test=smoke_test)
    lines = [line.replace("**", "") for line in finding_lines(report.transfer)]
    table = markdown_table(compact_transfer(report.transfer))
    return "\n".join(["", *lines, "", table, *[f"note: {note}" for note in notes], f"report: {out / 'README.md'}"])
