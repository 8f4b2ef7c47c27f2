"""argparse definitions with an example for every subcommand."""
from __future__ import annotations

import argparse
import sys


class OneLineParser(argparse.ArgumentParser):
    """Bad flags print one line and exit 2 (argparse prints the whole usage by default)."""

    def error(self, message: str):
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def _sub(subparsers, name: str, help_text: str, examples: str) -> argparse.ArgumentParser:
    return subparsers.add_parser(name, help=help_text, description=help_text,
                                 epilog="examples:\n" + examples,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--smoke-test", action="store_true", help="tiny model and data, a few steps")


def _search_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--domain", action="append", help="domain(s), repeatable or comma-separated (default digits)")
    p.add_argument("--objective", action="append", help="objective(s): emix, shed, mae, capri (default emix)")
    p.add_argument("--num-samples", type=int, default=8, help="trials per (domain, objective) (default 8)")
    p.add_argument("--sampler", default="tpe", help="tpe | random | gp | cmaes | nsga2 (default tpe)")
    p.add_argument("--scheduler", default="asha", help="asha | hyperband | median | fifo (default asha)")
    p.add_argument("--multi-objective", choices=["seconds", "params"],
                   help="also minimize this (NSGA-II, no early stopping)")
    p.add_argument("--seed", type=int, default=0, help="sampler seed (default 0)")
    p.add_argument("--space", action="append", help="extra YAML search space merged over the built-in ones")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="fix a parameter, e.g. --set max_steps=200")
    p.add_argument("--cpus-per-trial", type=float, default=1.0)
    p.add_argument("--gpus-per-trial", type=float, default=0.0, help="fractions allowed, e.g. 0.5")
    p.add_argument("--max-concurrent", type=int, default=0, help="0: as many as resources allow")
    p.add_argument("--max-failures", type=int, default=1,
                   help="retries of an errored trial from its last checkpoint before it is closed FAIL (default 1)")
    p.add_argument("--keep-checkpoints", type=int, default=2, help="checkpoints kept per trial")
    p.add_argument("--grace-period", type=int, default=1, help="ASHA: evaluations before the first cut")
    p.add_argument("--reduction-factor", type=int, default=2, help="ASHA/HyperBand reduction factor")
    p.add_argument("--no-baseline", action="store_true", help="skip the random-init baseline trial")
    p.add_argument("--no-reuse-actors", action="store_true", help="start a new worker per trial")
    p.add_argument("--name", help="experiment name (default: domains_objectives_time)")


def _ray_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage-path", default="runs", help="local folder or cloud URI (default ./runs)")
    p.add_argument("--address", help="join this Ray cluster instead of starting a private one")
    p.add_argument("--num-cpus", type=int, default=0, help="CPUs of the private Ray (default: all)")


def _report_parsers(sub) -> None:
    p = _sub(sub, "analyze", "report on experiments: tables, plots, best configs, importance, README.md",
             "  run_search.py analyze runs/digits_emix_20261122-101500\n"
             "  run_search.py analyze runs/a runs/b --out reports/ab --seeds 3\n"
             "  run_search.py analyze runs/dev --which best-ever --risk --invariance")
    p.add_argument("experiment", nargs="+", help="experiment folder(s) (local, or copied from a cluster)")
    p.add_argument("--out", help="report folder (default reports/<experiment name>)")
    p.add_argument("--which", choices=["last", "best-ever"], default="last",
                   help="rank trials by their last validation score (default; its checkpoint is kept) or best-ever")
    p.add_argument("--seeds", type=int, default=0,
                   help="re-run best configs, DABS defaults and baselines with k fresh seeds (starts Ray)")
    p.add_argument("--risk", action="store_true", help="risk decomposition of the best checkpoints")
    p.add_argument("--invariance", action="store_true", help="invariance matrix of the best checkpoints")
    p.add_argument("--num-cpus", type=int, default=0, help="CPUs of the private Ray for --seeds (default: all)")
    _common(p)
    p = _sub(sub, "export", "write only the tables and best configs of experiments (fast, re-runs nothing)",
             "  run_search.py export runs/digits_emix_20261122-101500\n"
             "  run_search.py export runs/a runs/b --out paper/tables --which best-ever")
    p.add_argument("experiment", nargs="+", help="experiment folder(s)")
    p.add_argument("--out", help="output folder (default reports/<experiment name>)")
    p.add_argument("--which", choices=["last", "best-ever"], default="last", help="as for analyze")
    _common(p)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="run_search.py", description="dabs-tune: hyperparameter and benchmark "
                           "search for domain-agnostic self-supervised learning. With no arguments: the quickstart.")
    parser.add_argument("--storage-path", default="runs", help=argparse.SUPPRESS)
    parser.add_argument("--num-cpus", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--smoke-test", action="store_true", help="quickstart with a tiny model")
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    p = _sub(sub, "search", "search hyperparameters with Ray Tune + Optuna",
             "  run_search.py search --domain digits,tokens --objective emix,shed --num-samples 16\n"
             "  run_search.py search --domain sensor --objective capri --sampler gp --scheduler median\n"
             "  run_search.py search --domain digits --multi-objective seconds --set max_steps=300")
    _search_flags(p), _ray_flags(p), _common(p)
    p = _sub(sub, "resume", "continue an interrupted search", "  run_search.py resume runs/digits_emix_20261122-101500")
    p.add_argument("experiment")
    _ray_flags(p), _common(p)
    p = _sub(sub, "pretrain", "one pretraining run plus transfer scores, no Ray",
             "  run_search.py pretrain --domain digits --objective shed --set lr=3e-4\n"
             "  run_search.py pretrain --config reports/x/configs/digits-emix.yaml")
    p.add_argument("--config", help="YAML of flat key: value pairs (as `export` writes)")
    p.add_argument("--domain"), p.add_argument("--objective")
    p.add_argument("--set", action="append", metavar="KEY=VALUE")
    p.add_argument("--out", default="runs/pretrain", help="output folder (default runs/pretrain)")
    _common(p)
    p = _sub(sub, "probe", "score a checkpoint on every transfer task of its domain",
             "  run_search.py probe runs/pretrain/encoder.pt\n"
             "  run_search.py probe runs/pretrain --protocol finetune --finetune-epochs 5\n"
             "  run_search.py probe runs/pretrain/encoder.pt --search --num-samples 16")
    p.add_argument("checkpoint"), p.add_argument("--domain")
    p.add_argument("--protocol", choices=["linear", "finetune"], default="linear")
    p.add_argument("--finetune-lr", type=float, default=1e-4)
    p.add_argument("--finetune-epochs", type=int, default=10)
    p.add_argument("--fewshot", type=int, action="append", help="examples per class, repeatable")
    p.add_argument("--search", action="store_true",
                   help="search the fine-tuning probe's lr, weight decay and epochs with Optuna (Ray Tune)")
    p.add_argument("--num-samples", type=int, default=8, help="with --search: trials (default 8)")
    p.add_argument("--sampler", default="tpe", help="with --search: tpe | random | gp | cmaes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", help="with --search: experiment name")
    p.add_argument("--storage-path", default="runs")
    p.add_argument("--num-cpus", type=int, default=0)
    _common(p)
    p = _sub(sub, "tensorboard", "serve TensorBoard for an experiment on 127.0.0.1",
             "  run_search.py tensorboard runs/quickstart_20261122-101500 --port 6006")
    p.add_argument("experiment"), p.add_argument("--port", type=int, default=6006)
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    _common(p)
    _report_parsers(sub)
    p = _sub(sub, "list", "list domains, objectives, search spaces or experiments",
             "  run_search.py list domains --data-root data\n  run_search.py list experiments")
    p.add_argument("what", choices=["domains", "objectives", "spaces", "experiments"])
    p.add_argument("--data-root", default="", help="where real datasets live (default $DABS_DATA_ROOT, else ./data)")
    p.add_argument("--storage-path", default="runs")
    p.add_argument("--verbose", "-v", action="store_true", help="domains: how to get every dataset, optional ones too")
    _common(p)
    return parser
