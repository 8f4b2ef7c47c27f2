#!/usr/bin/env python3
"""dabs-tune's command line. `python run_search.py --help`; no arguments runs the quickstart."""
from __future__ import annotations

import os
import sys


# command -> (module, function); imported on use, so `export` does not pay for Ray and Lightning.
COMMANDS = {
    None: ("cli.search_cmd", "cmd_quickstart"),
    "search": ("cli.search_cmd", "cmd_search"),
    "resume": ("cli.search_cmd", "cmd_resume"),
    "pretrain": ("cli.pretrain_cmd", "cmd_pretrain"),
    "probe": ("cli.pretrain_cmd", "cmd_probe"),
    "tensorboard": ("cli.misc_cmd", "cmd_tensorboard"),
    "list": ("cli.misc_cmd", "cmd_list"),
    "analyze": ("cli.report_cmd", "cmd_analyze"),
    "export": ("cli.report_cmd", "cmd_export"),
}


def _dispatch(args) -> int:
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
    except KeyboardInterrupt:
        print(f"interrupted; continue with `{parser.prog} resume <experiment>`", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
