"""`summarize` (printed after every search), `analyze` and `export` (the work lives in analysis.report)."""

from __future__ import annotations

import pandas as pd

from dabs_lib.invocation import command
import argparse
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analysis.report import Report


def summarize(uri: str) -> None:
    """Print the domain x objective table of a finished search and save it beside the search."""
    from analysis.exports import write_table
    from analysis.report import load_report
    from analysis.results import ExperimentError
    from analysis.tables import SINGLE_RUN_TABLE, summary_table
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
    paths = write_table(
        table, local, SINGLE_RUN_TABLE, caption="test score of the best trial per objective (one run each)"
    )
    print(f"saved: {', '.join(str(p) for p in paths.values())}")
    print(f"\nTensorBoard: {command(f'tensorboard {uri}')}")


def _load(args: argparse.Namespace) -> Report:
    """Validate the input (one-line errors, exit 2) and read the experiments."""
    from analysis.report import load_report

    from cli.errors import UserError, user_errors

    if getattr(args, "seeds", 0) < 0:
        raise UserError(f"--seeds must be >= 0, but got {args.seeds}")
    if getattr(args, "num_cpus", 0) < 0:
        raise UserError(f"--num-cpus must be >= 0, but got {args.num_cpus}")
    with user_errors():
        report = load_report(args.experiment, args.which)
    if getattr(args, "seeds", 0):
        prepare_recorded_domains(args.experiment)
    return report


def prepare_recorded_domains(experiments: list[str]) -> None:
    """The user domains a search recorded (request.domain_files), checked and prepared before --seeds re-runs
    start Ray: an edited or deleted domain file is one line here, not an error in every re-run."""
    from cli.domain_cmd import prepare_user_domains
    from dabs_lib.experiment import ExperimentError, read_manifest

    for path in experiments:
        try:
            request = read_manifest(path).request
        except (ExperimentError, OSError):
            continue
        files = request.get("domain_files") or {}
        prepare_user_domains(files, str((request.get("overrides") or {}).get("data_root", "")))


def _say_damaged(report: Report) -> None:
    """Damaged trial files are named, one line each, on stderr (the tables say `errored`)."""
    import sys

    from analysis.results import damaged_lines

    for line in damaged_lines(report.results):
        print(line, file=sys.stderr, flush=True)


def cmd_analyze(args: argparse.Namespace) -> int:
    from analysis.readme import finding_lines
    from analysis.report import analyze

    report = _load(args)
    _say_damaged(report)
    flags = [f for f in ("risk", "invariance", "all_trials", "combine", "smoke_test") if getattr(args, f)]
    again = analyze_command(args.experiment, args.seeds, args.out, flags)
    with seeds_continue_with(again):
        out, notes = analyze(
            report,
            args.out,
            seeds=args.seeds,
            risk=args.risk,
            invariance=args.invariance,
            num_cpus=args.num_cpus,
            smoke_test=args.smoke_test,
            all_trials=args.all_trials,
            combine=args.combine,
            address=args.address,
        )
    for line in finding_lines(report.transfer) + notes:
        print(line.replace("**", ""))
    print(f"report: {out / 'README.md'}")
    return 0


def analyze_command(experiments: list[str], seeds: int, out: str | None, flags: list[str]) -> str:
    """The `analyze` command line that continues an interrupted one (what to type)."""
    from shlex import quote

    words = ["analyze", *map(quote, experiments), "--seeds", str(seeds)]
    words += ["--out", quote(out)] if out else []
    return command(" ".join(words + [f"--{f.replace('_', '-')}" for f in flags]))


@contextlib.contextmanager
def seeds_continue_with(again: str) -> Iterator[None]:
    """A Ctrl-C during the fresh-seed re-runs says how many finished (kept) and what continues them."""
    from analysis.seeds import SeedRunsInterrupted

    try:
        yield
    except SeedRunsInterrupted as stop:
        stop.hint = f"{stop.finished} of {stop.cells} fresh-seed runs finished and are kept; continue with `{again}`"
        raise


def cmd_export(args: argparse.Namespace) -> int:
    from analysis.report import default_out, export_report

    report = _load(args)
    _say_damaged(report)
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
        return f"no report: {uri} is not on this machine; copy it here and run `{command('analyze')}`"
    report = load_report([local])
    with seeds_continue_with(analyze_command([local], seeds, None, ["smoke_test"] if smoke_test else [])):
        out, notes = analyze(report, seeds=seeds, smoke_test=smoke_test)
    lines = [line.replace("**", "") for line in finding_lines(report.transfer)]
    table = markdown_table(compact_transfer(report.transfer))
    return "\n".join(["", *lines, "", table, *[f"note: {note}" for note in notes], f"report: {out / 'README.md'}"])
