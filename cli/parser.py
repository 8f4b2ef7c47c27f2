"""argparse definitions with an example for every subcommand.

Every flag has help text, and `--help` shows its default (HelpFormatter). Help, usage and
errors name the program as it was invoked (`dabs-tune` once installed, `run_search.py`
from a checkout), and so do the examples.
"""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn
from pathlib import Path

DISTRIBUTION = "dabs-tune"  # the name pyproject.toml gives the package (and its command)
EXAMPLE_NAME = "run_search.py"  # how the examples below are written; replaced by the invoked name


def invoked_name() -> str:
    """`dabs-tune` or `run_search.py`: what the user typed (argv[0]); `run_search.py` when
    main() is called from Python (argv[0] is then another program's)."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return name if name in (DISTRIBUTION, EXAMPLE_NAME) else EXAMPLE_NAME


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
        if "default" in text or not action.option_strings or any(
                action.default is hidden for hidden in (None, False, argparse.SUPPRESS)):
            return text
        return f"{text} (default: %(default)s)"


class OneLineParser(argparse.ArgumentParser):
    """Bad flags print one line and exit 2 (argparse prints the whole usage by default)."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def _sub(subparsers, name: str, help_text: str, examples: str, more: str = "") -> argparse.ArgumentParser:
    return subparsers.add_parser(name, help=help_text, description=help_text + more, epilog="examples:\n" + examples,
                                 formatter_class=HelpFormatter)


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
}


def _common(p: argparse.ArgumentParser, command: str) -> None:
    p.add_argument("--smoke-test", action="store_true", help=SMOKE_HELP[command])


def _search_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--domain", action="append",
                   help="domain(s), repeatable or comma-separated (default: digits)")
    p.add_argument("--objective", action="append",
                   help="objective(s): emix, shed, mae, capri; repeatable or comma-separated (default: emix)")
    p.add_argument("--num-samples", type=int, default=8, help="trials per (domain, objective)")
    p.add_argument("--sampler", default="tpe", help="Optuna sampler: tpe | random | gp | cmaes | nsga2")
    p.add_argument("--scheduler", default="asha", help="early stopping: asha | hyperband | median | fifo")
    p.add_argument("--multi-objective", choices=["seconds", "params"],
                   help="also minimize this (NSGA-II, no early stopping; default: off, one objective)")
    p.add_argument("--seed", type=int, default=0, help="sampler seed")
    p.add_argument("--space", action="append", metavar="YAML",
                   help="extra YAML search space merged over the built-in ones, repeatable (default: none)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="fix a parameter, e.g. --set max_steps=200; repeatable (default: none)")
    p.add_argument("--cpus-per-trial", type=float, default=1.0, help="CPUs Ray reserves for each trial")
    p.add_argument("--gpus-per-trial", type=float, default=0.0, help="GPUs per trial, fractions allowed, e.g. 0.5")
    p.add_argument("--max-concurrent", type=int, default=0, help="trials at once; 0: as many as resources allow")
    p.add_argument("--max-failures", type=int, default=1,
                   help="retries of an errored trial from its last checkpoint before it is closed FAIL")
    p.add_argument("--keep-checkpoints", type=int, default=2, help="checkpoints kept per trial")
    p.add_argument("--grace-period", type=int, default=1, help="ASHA: evaluations before the first cut")
    p.add_argument("--reduction-factor", type=int, default=2, help="ASHA/HyperBand reduction factor")
    p.add_argument("--no-baseline", action="store_true", help="skip the random-init baseline trial")
    p.add_argument("--no-reuse-actors", action="store_true", help="start a new worker per trial")
    p.add_argument("--name", help="experiment name (default: <domains>_<objectives>_<time>)")


def _ray_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage-path", default="runs", help="where experiments go: local folder or cloud URI")
    p.add_argument("--address", help="join this Ray cluster (default: start a private one on this machine)")
    p.add_argument("--num-cpus", type=int, default=0, help="CPUs of the private Ray; 0: all")
    from trainables.limits import SCHEDULE_TIMEOUT_S  # Ray-free: --help stays fast

    p.add_argument("--schedule-timeout", type=float, metavar="SECONDS",
                   help="with --address: seconds the cluster gets to grant one trial's resources before the "
                        f"search stops (an autoscaler may need minutes to add a node) (default: {SCHEDULE_TIMEOUT_S:g})")


def _report_parsers(sub) -> None:
    p = _sub(sub, "analyze", "report on experiments: tables, plots, best configs, importance, README.md",
             "  run_search.py analyze runs/digits_emix_20261122-101500\n"
             "  run_search.py analyze runs/a runs/b --out reports/ab --seeds 3\n"
             "  run_search.py analyze runs/dev --which best-ever --risk --invariance")
    p.add_argument("experiment", nargs="+", help="experiment folder(s) (local, or copied from a cluster)")
    p.add_argument("--out", help="report folder (default: reports/<experiment name>)")
    p.add_argument("--which", choices=["last", "best-ever"], default="last",
                   help="rank trials by their last validation score (its checkpoint is kept) or best-ever")
    p.add_argument("--seeds", type=int, default=0,
                   help="re-run best configs, DABS defaults and baselines with k fresh seeds (starts Ray); 0: no")
    p.add_argument("--risk", action="store_true", help="risk decomposition of the best checkpoints")
    p.add_argument("--invariance", action="store_true", help="invariance matrix of the best checkpoints")
    p.add_argument("--num-cpus", type=int, default=0, help="CPUs of the private Ray for --seeds; 0: all")
    _common(p, "analyze")
    p = _sub(sub, "export", "write only the tables and best configs of experiments (fast, re-runs nothing)",
             "  run_search.py export runs/digits_emix_20261122-101500\n"
             "  run_search.py export runs/a runs/b --out paper/tables --which best-ever")
    p.add_argument("experiment", nargs="+", help="experiment folder(s)")
    p.add_argument("--out", help="output folder (default: reports/<experiment name>)")
    p.add_argument("--which", choices=["last", "best-ever"], default="last", help="as for analyze")
    _common(p, "export")


def _pretrain_parsers(sub) -> None:
    p = _sub(sub, "pretrain", "one pretraining run plus transfer scores, no Ray",
             "  run_search.py pretrain --domain digits --objective shed --set lr=3e-4\n"
             "  run_search.py pretrain --config reports/x/configs/digits-emix.yaml",
             ". Without arguments it pretrains the default objective (emix) on the default domain "
             "(digits) with the DABS settings, then scores linear probes on every transfer task of the domain.")
    p.add_argument("--config", help="YAML of flat key: value pairs, as `export` writes (default: none)")
    p.add_argument("--domain", help="domain to pretrain on (default: the config's, else digits)")
    p.add_argument("--objective", help="SSL objective (default: the config's, else emix)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override one setting, e.g. --set lr=3e-4; repeatable (default: none)")
    p.add_argument("--out", default="runs/pretrain", help="output folder (encoder.pt, scores.json)")
    _common(p, "pretrain")
    p = _sub(sub, "probe", "score a checkpoint on every transfer task of its domain",
             "  run_search.py probe runs/pretrain/encoder.pt\n"
             "  run_search.py probe runs/pretrain --protocol finetune --finetune-epochs 5\n"
             "  run_search.py probe runs/pretrain/encoder.pt --search --num-samples 16")
    p.add_argument("checkpoint", help="encoder.pt, or the folder holding it")
    p.add_argument("--domain", help="domain to score on (default: the one the checkpoint was trained on)")
    p.add_argument("--protocol", choices=["linear", "finetune"], default="linear",
                   help="linear probe on the frozen encoder, or fine-tune encoder and head")
    p.add_argument("--finetune-lr", type=float, default=1e-4, help="fine-tuning learning rate")
    p.add_argument("--finetune-epochs", type=int, default=10, help="fine-tuning epochs")
    p.add_argument("--fewshot", type=int, action="append", metavar="K",
                   help="also score with K examples per class, repeatable (default: full training split only)")
    p.add_argument("--search", action="store_true",
                   help="search the fine-tuning probe's lr, weight decay and epochs with Optuna (Ray Tune)")
    p.add_argument("--num-samples", type=int, default=8, help="with --search: trials")
    p.add_argument("--sampler", default="tpe", help="with --search: tpe | random | gp | cmaes")
    p.add_argument("--seed", type=int, default=0, help="with --search: sampler seed")
    p.add_argument("--name", help="with --search: experiment name (default: <domain>_probe_<time>)")
    p.add_argument("--storage-path", default="runs", help="with --search: where the experiment goes")
    p.add_argument("--num-cpus", type=int, default=0, help="with --search: CPUs of the private Ray; 0: all")
    _common(p, "probe")


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    prog = prog or invoked_name()
    parser = OneLineParser(prog=prog, formatter_class=HelpFormatter,
                           description="dabs-tune: hyperparameter and benchmark search for domain-agnostic "
                           "self-supervised learning. With no command: the quickstart (a small search "
                           "of shed and mae on digits, tabular and tokens, then its report).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    parser.add_argument("--storage-path", default="runs", help="quickstart: where its experiment goes")
    parser.add_argument("--num-cpus", type=int, default=0, help="quickstart: CPUs of the private Ray; 0: all")
    parser.add_argument("--smoke-test", action="store_true", help="quickstart with a tiny model, a few steps")
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser, metavar="command",
                                title="commands (`<command> --help` for its flags and examples)")
    p = _sub(sub, "search", "search hyperparameters with Ray Tune + Optuna",
             "  run_search.py search --domain digits,tokens --objective emix,shed --num-samples 16\n"
             "  run_search.py search --domain sensor --objective capri --sampler gp --scheduler median\n"
             "  run_search.py search --domain digits --multi-objective seconds --set max_steps=300")
    _search_flags(p), _ray_flags(p), _common(p, "search")
    p = _sub(sub, "resume", "continue an interrupted search", "  run_search.py resume runs/digits_emix_20261122-101500")
    p.add_argument("experiment", help="the experiment folder (or URI) to continue")
    _ray_flags(p), _common(p, "resume")
    _pretrain_parsers(sub)
    p = _sub(sub, "tensorboard", "serve TensorBoard for an experiment on 127.0.0.1",
             "  run_search.py tensorboard runs/quickstart_20261122-101500 --port 6006")
    p.add_argument("experiment", help="the experiment folder")
    p.add_argument("--port", type=int, default=6006, help="TCP port; a busy port is an error")
    p.add_argument("--host", default="127.0.0.1", help="bind address (127.0.0.1: this machine only)")
    _common(p, "tensorboard")
    _report_parsers(sub)
    p = _sub(sub, "list", "list domains, objectives, search spaces or experiments",
             "  run_search.py list domains --data-root data\n  run_search.py list spaces --json\n"
             "  run_search.py list experiments")
    p.add_argument("what", choices=["domains", "objectives", "spaces", "experiments"], help="what to list")
    p.add_argument("--data-root", default="", help="domains: where real datasets live (default: $DABS_DATA_ROOT, "
                   "else ./data)")
    p.add_argument("--storage-path", default="runs", help="experiments: where to look for them")
    p.add_argument("--verbose", "-v", action="store_true", help="domains: how to get every dataset, optional ones too")
    p.add_argument("--json", action="store_true", help="spaces: print JSON instead of a table")
    _common(p, "list")
    for command in sub.choices.values():
        command.epilog = command.epilog.replace(EXAMPLE_NAME, prog)
    return parser
