"""argparse definitions with an example for every subcommand.

Every flag has help text, and `--help` shows its default (HelpFormatter). Help, usage and
errors name the program as it was invoked (`dabs-tune` once installed, `run_search.py`
from a checkout), and so do the examples.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from dabs_lib.invocation import DISTRIBUTION, SCRIPT as EXAMPLE_NAME, invoked_name  # noqa: F401 (re-exported)


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # a bare checkout that was never installed
        return "unknown (not installed; `pip install .`)"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks; appends `(default: X)` to every flag with a value default.
    Flags whose default is None (or whose help already names it) say it in their own words."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "default" in text
            or not action.option_strings
            or any(action.default is hidden for hidden in (None, False, argparse.SUPPRESS))
        ):
            return text
        return f"{text} (default: %(default)s)"


class OneLineParser(argparse.ArgumentParser):
    """Bad flags print one line and exit 2 (argparse prints the whole usage by default)."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def _sub(
    subparsers: argparse._SubParsersAction[OneLineParser], name: str, help_text: str, examples: str, more: str = ""
) -> argparse.ArgumentParser:
    return subparsers.add_parser(
        name,
        help=help_text,
        description=help_text + more,
        epilog="examples:\n" + examples,
        formatter_class=HelpFormatter,
    )


SMOKE_HELP = {  # what --smoke-test does on each command, said truthfully
    "search": "tiny model and data, a few steps per trial (checks the whole pipeline in minutes)",
    "resume": "no effect: a resumed search keeps the settings it was started with, --smoke-test included",
    "pretrain": "tiny model and data, a few steps",
    "probe": "tiny data; fine-tuning runs 1 epoch",
    "tensorboard": "start TensorBoard, check that it answers, stop it",
    "analyze": "with --seeds: re-run the seeds with the tiny model and a few steps; otherwise no effect "
    "(the report reads files; --risk and --invariance use the trials' own settings)",
    "export": "no effect: export only reads files (accepted so every command takes it)",
    "list": "no effect: list only reads files (accepted so every command takes it)",
    "export-model": "no effect: export-model only reads files (accepted so every command takes it)",
    "models": "no effect: models only reads files (accepted so every command takes it)",
    "featurize": "no effect: featurize uses the model as exported (accepted so every command takes it)",
    "domain": "no effect: check reads the whole domain (accepted so every command takes it)",
    "status": "no effect: status only reads files (accepted so every command takes it)",
}


def _common(p: argparse.ArgumentParser, command: str) -> None:
    p.add_argument("--smoke-test", action="store_true", help=SMOKE_HELP[command])


def _search_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--domain",
        action="append",
        help="domain(s), repeatable or comma-separated: a built-in name, a domain file (.yaml) of your "
        "own data, or the name of one in $DABS_DOMAINS_DIR (default: digits)",
    )
    p.add_argument(
        "--objective",
        action="append",
        help="objective(s): emix, shed, mae, capri; repeatable or comma-separated (default: emix)",
    )
    p.add_argument("--num-samples", type=int, default=8, help="trials per (domain, objective)")
    p.add_argument("--sampler", default="tpe", help="Optuna sampler: tpe | random | gp | cmaes | nsga2")
    p.add_argument(
        "--scheduler",
        default=None,
        help="early stopping: asha | hyperband | median | fifo (default: asha; fifo with --multi-objective)",
    )
    p.add_argument(
        "--multi-objective",
        choices=["seconds", "params"],
        help="also minimize this (NSGA-II, no early stopping; default: off, one objective)",
    )
    p.add_argument("--seed", type=int, default=0, help="sampler seed")
    p.add_argument(
        "--space",
        action="append",
        metavar="YAML",
        help="extra YAML search space merged over the built-in ones, repeatable (default: none)",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="fix a parameter, e.g. --set max_steps=200; repeatable (default: none)",
    )
    p.add_argument("--cpus-per-trial", type=float, default=1.0, help="CPUs Ray reserves for each trial")
    p.add_argument("--gpus-per-trial", type=float, default=0.0, help="GPUs per trial, fractions allowed, e.g. 0.5")
    p.add_argument("--max-concurrent", type=int, default=0, help="trials at once; 0: as many as resources allow")
    p.add_argument(
        "--max-failures",
        type=int,
        default=1,
        help="retries of an errored trial from its last checkpoint before it is closed FAIL",
    )
    p.add_argument("--keep-checkpoints", type=int, default=2, help="checkpoints kept per trial")
    p.add_argument("--grace-period", type=int, default=1, help="ASHA: evaluations before the first cut")
    p.add_argument("--reduction-factor", type=int, default=2, help="ASHA/HyperBand reduction factor")
    p.add_argument("--no-baseline", action="store_true", help="skip the random-init baseline trial")
    p.add_argument("--no-reuse-actors", action="store_true", help="start a new worker per trial")
    p.add_argument("--name", help="experiment name (default: <domains>_<objectives>_<time>)")
    p.add_argument(
        "--shared-config",
        action="store_true",
        help="one cross-domain study per objective: each trial is one config run on every --domain, "
        "scored by the mean normalized gain over random init (docs/search.md)",
    )
    p.add_argument(
        "--warm-start",
        nargs="+",
        metavar="EXPERIMENT",
        help="finished experiments whose best configs (same objective) each new study tries first (default: none)",
    )
    p.add_argument(
        "--prune-warm-start",
        action="store_true",
        help="let the scheduler stop --warm-start configs like any other trial "
        "(default: they run their full budget; their scores still set the cut-offs)",
    )


def _ray_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage-path", default="runs", help="where experiments go: local folder or cloud URI")
    p.add_argument("--address", help="join this Ray cluster (default: start a private one on this machine)")
    p.add_argument("--num-cpus", type=int, default=0, help="CPUs of the private Ray; 0: all")
    from trainables.limits import SCHEDULE_TIMEOUT_S  # Ray-free: --help stays fast

    p.add_argument(
        "--schedule-timeout",
        type=float,
        metavar="SECONDS",
        help="with --address: seconds the cluster gets to grant one trial's resources before the "
        f"search stops (an autoscaler may need minutes to add a node) (default: {SCHEDULE_TIMEOUT_S:g})",
    )


def _report_parsers(sub: argparse._SubParsersAction[OneLineParser]) -> None:
    p = _sub(
        sub,
        "analyze",
        "report on experiments: tables, plots, best configs, importance, README.md",
        "  run_search.py analyze runs/digits_emix_20261122-101500\n"
        "  run_search.py analyze runs/a runs/b --out reports/ab --seeds 3\n"
        "  run_search.py analyze runs/dev --which best-ever --risk --invariance\n"
        "  run_search.py analyze runs/dev --all-trials --combine --seeds 3",
    )
    p.add_argument("experiment", nargs="+", help="experiment folder(s) (local, or copied from a cluster)")
    p.add_argument("--out", help="report folder (default: reports/<experiment name>)")
    p.add_argument(
        "--which",
        choices=["last", "best-ever"],
        default="last",
        help="rank trials by their last validation score (its checkpoint is kept) or best-ever",
    )
    p.add_argument(
        "--seeds",
        type=int,
        default=0,
        help="re-run best configs, DABS defaults and baselines with k fresh seeds (starts Ray); 0: no",
    )
    p.add_argument("--risk", action="store_true", help="risk decomposition of the best checkpoints")
    p.add_argument("--invariance", action="store_true", help="invariance matrix of the best checkpoints")
    p.add_argument(
        "--all-trials",
        action="store_true",
        help="--risk/--invariance (both when neither is given) of every finished trial, rank-correlated "
        "with its test score (95%% bootstrap interval); resumable, parallel on Ray",
    )
    p.add_argument(
        "--combine",
        action="store_true",
        help="probe the concatenated features of the best encoder of every objective (and of pairs) "
        "of a domain; with --seeds k, one combination per fresh seed",
    )
    p.add_argument(
        "--num-cpus", type=int, default=0, help="CPUs of the private Ray for --seeds and --all-trials; 0: all"
    )
    p.add_argument("--address", default="", help="run --all-trials on this Ray cluster (default: a private one)")
    _common(p, "analyze")
    p = _sub(
        sub,
        "export",
        "write only the tables and best configs of experiments (fast, re-runs nothing)",
        "  run_search.py export runs/digits_emix_20261122-101500\n"
        "  run_search.py export runs/a runs/b --out paper/tables --which best-ever",
    )
    p.add_argument("experiment", nargs="+", help="experiment folder(s)")
    p.add_argument("--out", help="output folder (default: reports/<experiment name>)")
    p.add_argument("--which", choices=["last", "best-ever"], default="last", help="as for analyze")
    _common(p, "export")


def _model_parsers(sub: argparse._SubParsersAction[OneLineParser]) -> None:
    from dabs_lib.model_registry import (  # Ray-free: --help stays fast
        DEFAULT_MODELS_DIR,
        MODELS_ENV,
    )

    dirs_help = f"where models are kept, repeatable (default: ${MODELS_ENV}, else ./{DEFAULT_MODELS_DIR})"
    p = _sub(
        sub,
        "export-model",
        "export the best encoder of each study as a model folder (safetensors, config.json, model card)",
        "  run_search.py export-model runs/digits_emix_20261122-101500 --out models\n"
        "  run_search.py export-model runs/dev --study digits-shed --out models\n"
        "  run_search.py export-model runs/dev --trial digits_shed_004 --out models",
    )
    p.add_argument("experiment", help="the experiment folder")
    p.add_argument(
        "--out", default=DEFAULT_MODELS_DIR, help="models folder: writes OUT/<experiment>/<domain>-<objective>/"
    )
    p.add_argument("--study", help="only this study's best trial, `<domain>-<objective>` (default: every study)")
    p.add_argument(
        "--trial", help="this trial folder instead of a study's best, e.g. digits_emix_003 (default: the best)"
    )
    p.add_argument("--which", choices=["last", "best-ever"], default="last", help="as for analyze")
    p.add_argument(
        "--report",
        help="the analyze report folder whose scores go on the model card "
        "(default: reports/<experiment> when it exists, else the trials' own scores)",
    )
    _common(p, "export-model")
    p = _sub(
        sub,
        "models",
        "list the exported models kept in a folder",
        "  run_search.py models list --models-dir models\n  DABS_TUNE_MODELS=~/models run_search.py models list",
    )
    p.add_argument("action", choices=["list"], help="what to do")
    p.add_argument("--models-dir", action="append", metavar="DIR", help=dirs_help)
    _common(p, "models")
    p = _sub(
        sub,
        "featurize",
        "embed a domain's split with an exported model into Parquet or .npz",
        "  run_search.py featurize digits-emix --domain digits --split test --out digits.parquet\n"
        "  run_search.py featurize models/dev/digits-emix --split pretrain --out pre.npz",
    )
    p.add_argument("model", help="model folder, or a name: <domain>-<objective> or <experiment>/<domain>-<objective>")
    p.add_argument("--domain", help="domain to embed (default: the model's)")
    p.add_argument(
        "--split", default="test", help="pretrain, train/val/test of the domain's first task, or <task>/<split>"
    )
    p.add_argument("--out", required=True, help="output file: .parquet or .npz (required, no default)")
    p.add_argument("--models-dir", action="append", metavar="DIR", help=dirs_help)
    p.add_argument("--data-root", default="", help="where real datasets live (default: $DABS_DATA_ROOT, else ./data)")
    p.add_argument("--batch-size", type=int, default=256, help="examples per forward pass")
    p.add_argument("--device", help="cpu, cuda, cuda:1 (default: CUDA when there is one, else CPU)")
    _common(p, "featurize")


def _pretrain_parsers(sub: argparse._SubParsersAction[OneLineParser]) -> None:
    p = _sub(
        sub,
        "pretrain",
        "one pretraining run plus transfer scores, no Ray",
        "  run_search.py pretrain --domain digits --objective shed --set lr=3e-4\n"
        "  run_search.py pretrain --config reports/x/configs/digits-emix.yaml",
        ". Without arguments it pretrains the default objective (emix) on the default domain "
        "(digits) with the DABS settings, then scores linear probes on every transfer task of the domain.",
    )
    p.add_argument("--config", help="YAML of flat key: value pairs, as `export` writes (default: none)")
    p.add_argument("--domain", help="domain to pretrain on (default: the config's, else digits)")
    p.add_argument("--objective", help="SSL objective (default: the config's, else emix)")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override one setting, e.g. --set lr=3e-4; repeatable (default: none)",
    )
    p.add_argument("--out", default="runs/pretrain", help="output folder (encoder.pt, scores.json)")
    _common(p, "pretrain")
    p = _sub(
        sub,
        "probe",
        "score a checkpoint on every transfer task of its domain",
        "  run_search.py probe runs/pretrain/encoder.pt\n"
        "  run_search.py probe runs/pretrain --protocol finetune --finetune-epochs 5\n"
        "  run_search.py probe runs/pretrain/encoder.pt --search --num-samples 16",
    )
    p.add_argument("checkpoint", help="encoder.pt, or the folder holding it")
    p.add_argument("--domain", help="domain to score on (default: the one the checkpoint was trained on)")
    p.add_argument(
        "--protocol",
        choices=["linear", "finetune"],
        default="linear",
        help="linear probe on the frozen encoder, or fine-tune encoder and head",
    )
    p.add_argument("--finetune-lr", type=float, default=1e-4, help="fine-tuning learning rate")
    p.add_argument("--finetune-epochs", type=int, default=10, help="fine-tuning epochs")
    p.add_argument(
        "--fewshot",
        type=int,
        action="append",
        metavar="K",
        help="also score with K examples per class, repeatable (default: full training split only)",
    )
    p.add_argument(
        "--search",
        action="store_true",
        help="search the fine-tuning probe's lr, weight decay and epochs with Optuna (Ray Tune)",
    )
    p.add_argument("--num-samples", type=int, default=8, help="with --search: trials")
    p.add_argument("--sampler", default="tpe", help="with --search: tpe | random | gp | cmaes")
    p.add_argument("--seed", type=int, default=0, help="with --search: sampler seed")
    p.add_argument("--name", help="with --search: experiment name (default: <domain>_probe_<time>)")
    p.add_argument("--storage-path", default="runs", help="with --search: where the experiment goes")
    p.add_argument("--num-cpus", type=int, default=0, help="with --search: CPUs of the private Ray; 0: all")
    _common(p, "probe")


def _domain_parser(sub: argparse._SubParsersAction[OneLineParser]) -> None:
    p = _sub(
        sub,
        "domain",
        "check a domain file (your own data): rows, classes, shapes, tokens, cost",
        "  run_search.py domain check my_data/domain.yaml\n"
        "  run_search.py search --domain my_data/domain.yaml --objective mae --smoke-test",
        more=". The file and every data file it names are read and checked, and prepared into the cache "
        "once (docs/domains.md).",
    )
    p.add_argument("action", choices=["check"], help="what to do with the domain file")
    p.add_argument("file", help="the domain file (.yaml)")
    p.add_argument(
        "--data-root", default="", help="where the prepared data are cached (default: $DABS_DATA_ROOT, else ./data)"
    )
    p.add_argument("--no-cost", action="store_true", help="skip measuring a training step at the default model")
    _common(p, "domain")


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    from cli.quickstart import quickstart_summary

    prog = prog or invoked_name()
    parser = OneLineParser(
        prog=prog,
        formatter_class=HelpFormatter,
        description="dabs-tune: hyperparameter and benchmark search for domain-agnostic "
        "self-supervised learning. With no command: the quickstart, "
        f"{quickstart_summary()}.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    parser.add_argument("--storage-path", default="runs", help="quickstart: where its experiment goes")
    parser.add_argument("--num-cpus", type=int, default=0, help="quickstart: CPUs of the private Ray; 0: all")
    parser.add_argument("--smoke-test", action="store_true", help="quickstart with a tiny model, a few steps")
    sub = parser.add_subparsers(
        dest="command",
        parser_class=OneLineParser,
        metavar="command",
        title="commands (`<command> --help` for its flags and examples)",
    )
    p = _sub(
        sub,
        "search",
        "search hyperparameters with Ray Tune + Optuna",
        "  run_search.py search --domain digits,tokens --objective emix,shed --num-samples 16\n"
        "  run_search.py search --domain sensor --objective capri --sampler gp --scheduler median\n"
        "  run_search.py search --domain digits --multi-objective seconds --set max_steps=300",
    )
    _search_flags(p), _ray_flags(p), _common(p, "search")
    p = _sub(sub, "resume", "continue an interrupted search", "  run_search.py resume runs/digits_emix_20261122-101500")
    p.add_argument("experiment", help="the experiment folder (or URI) to continue")
    _ray_flags(p), _common(p, "resume")
    _pretrain_parsers(sub)
    p = _sub(
        sub,
        "tensorboard",
        "serve TensorBoard for an experiment on 127.0.0.1",
        "  run_search.py tensorboard runs/quickstart_20261122-101500 --port 6006",
    )
    p.add_argument("experiment", help="the experiment folder")
    p.add_argument("--port", type=int, default=6006, help="TCP port; a busy port is an error")
    p.add_argument("--host", default="127.0.0.1", help="bind address (127.0.0.1: this machine only)")
    _common(p, "tensorboard")
    _report_parsers(sub)
    _model_parsers(sub)
    _domain_parser(sub)
    p = _sub(
        sub,
        "list",
        "list domains, objectives, search spaces or experiments",
        "  run_search.py list domains --data-root data\n  run_search.py list spaces --json\n"
        "  run_search.py list experiments",
    )
    p.add_argument("what", choices=["domains", "objectives", "spaces", "experiments"], help="what to list")
    p.add_argument(
        "--data-root", default="", help="domains: where real datasets live (default: $DABS_DATA_ROOT, else ./data)"
    )
    p.add_argument("--storage-path", default="runs", help="experiments: where to look for them")
    p.add_argument("--verbose", "-v", action="store_true", help="domains: how to get every dataset, optional ones too")
    p.add_argument("--json", action="store_true", help="spaces: print JSON instead of a table")
    _common(p, "list")
    p = _sub(
        sub,
        "status",
        "where an experiment stands: trials per study, best score, elapsed, ETA (running or ended)",
        "  run_search.py status runs/quickstart_20261122-101500\n"
        "  run_search.py status runs/quickstart_20261122-101500 --watch --interval 10",
        ". Reads the experiment's search.json and optuna.journal only, so it works from another terminal "
        "while the search runs. (Whether datasets are present: `list domains`.)",
    )
    p.add_argument("experiment", help="the experiment folder")
    p.add_argument("--watch", action="store_true", help="reprint every --interval seconds until the search stops")
    from cli.status_cmd import WATCH_INTERVAL_S

    p.add_argument(
        "--interval",
        type=float,
        default=WATCH_INTERVAL_S,
        metavar="SECONDS",
        help="with --watch: seconds between refreshes",
    )
    _common(p, "status")
    for command in sub.choices.values():
        command.epilog = command.epilog.replace(EXAMPLE_NAME, prog)
    return parser
