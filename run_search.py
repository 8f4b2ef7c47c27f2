#!/usr/bin/env python3
"""dabs-tune's command line. `python run_search.py --help`; no arguments runs the quickstart."""

from __future__ import annotations

import os
import sys
import argparse


# command -> (module, function); imported on use, so `export` does not pay for Ray and Lightning.
COMMANDS = {
    None: ("cli.search_cmd", "cmd_quickstart"),
    "search": ("cli.search_cmd", "cmd_search"),
    "resume": ("cli.search_cmd", "cmd_resume"),
    "pretrain": ("cli.pretrain_cmd", "cmd_pretrain"),
    "probe": ("cli.pretrain_cmd", "cmd_probe"),
    "tensorboard": ("cli.misc_cmd", "cmd_tensorboard"),
    "list": ("cli.misc_cmd", "cmd_list"),
    "status": ("cli.status_cmd", "cmd_status"),
    "analyze": ("cli.report_cmd", "cmd_analyze"),
    "export": ("cli.report_cmd", "cmd_export"),
    "export-model": ("cli.models_cmd", "cmd_export_model"),
    "models": ("cli.models_cmd", "cmd_models"),
    "featurize": ("cli.models_cmd", "cmd_featurize"),
    "domain": ("cli.domain_cmd", "cmd_domain"),
}


def _dispatch(args: argparse.Namespace) -> int:
    import importlib

    module, function = COMMANDS[args.command]
    return getattr(importlib.import_module(module), function)(args)


def _quiet_broken_pipe() -> int:
    """`dabs-tune list spaces | head`: the reader left; stop without a traceback (exit status
    as a tool killed by SIGPIPE), and keep Python's final flush from complaining."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + 13


def main(argv: list[str] | None = None) -> int:
    from cli.errors import UserError
    from cli.parser import build_parser

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = _dispatch(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at exit
        return status
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except UserError as error:
        if os.environ.get("DABS_TUNE_DEBUG"):
            raise
        print(f"{parser.prog}: error: {error}".splitlines()[0], file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:  # a `hint` says what continues it; else its argument is the experiment
        hint = getattr(interrupt, "hint", "")
        where = interrupt.args[0] if interrupt.args else "<experiment>"
        print(f"interrupted; {hint or f'continue with `{parser.prog} resume {where}`'}", file=sys.stderr)
        return 130
    except Exception as error:  # faults that are not bad input: one line, their own exit status
        line = _fault_line(error, args)
        if line is None or os.environ.get("DABS_TUNE_DEBUG"):
            raise
        print(f"run_search.py: error: {line}", file=sys.stderr)
        return 1


def _fault_line(error: BaseException, args: argparse.Namespace) -> str | None:
    """A full disk, a diverged run or a search Ray's memory monitor stopped: what happened, where,
    and what to do, on one line."""
    from dabs_lib.divergence import Diverged
    from dabs_lib.safe_io import SPACE_MARGIN, DiskFullError, disk_full_cause
    from trainables.runner import SearchStopped

    if isinstance(error, Diverged):
        return f"{error.reason}; lower the learning rate (--set lr=...) or raise --set grad_clip"
    if isinstance(error, SearchStopped):
        return str(error)
    cause = disk_full_cause(error)
    if cause is None:
        return None
    if not isinstance(cause, DiskFullError):  # a raw ENOSPC: name the folder the command writes to
        where = (
            getattr(cause, "filename", None)
            or getattr(args, "experiment", None)
            or getattr(args, "out", None)
            or getattr(args, "storage_path", None)
            or "."
        )
        where = where[0] if isinstance(where, list) else where
        cause = DiskFullError(where if os.path.isdir(str(where)) else os.path.dirname(str(where)) or ".", SPACE_MARGIN)
    return str(cause).splitlines()[0]


if __name__ == "__main__":
    sys.exit(main())
