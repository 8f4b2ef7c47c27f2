#!/usr/bin/env python3
"""dabs-tune's command line. `python run_search.py --help`; no arguments runs the quickstart."""
from __future__ import annotations

import os
import sys


def _dispatch(args) -> int:
    from cli import misc_cmd, pretrain_cmd, search_cmd

    commands = {
        None: search_cmd.cmd_quickstart,
        "search": search_cmd.cmd_search,
        "resume": search_cmd.cmd_resume,
        "pretrain": pretrain_cmd.cmd_pretrain,
        "probe": pretrain_cmd.cmd_probe,
        "tensorboard": misc_cmd.cmd_tensorboard,
        "list": misc_cmd.cmd_list,
    }
    try:
        from cli import report_cmd

        commands.update(analyze=report_cmd.cmd_analyze, export=report_cmd.cmd_export)
    except AttributeError:
        pass
    return commands[args.command](args)


def main(argv: list[str] | None = None) -> int:
    from cli.errors import UserError
    from cli.parser import build_parser

    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except UserError as error:
        if os.environ.get("DABS_TUNE_DEBUG"):
            raise
        print(f"run_search.py: error: {error}".splitlines()[0], file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; continue with `run_search.py resume <experiment>`", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
