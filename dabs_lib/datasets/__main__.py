"""`python -m dabs_lib.datasets status|download [NAME] --data-root DIR`.

status: the data root, then one line per real domain (present or MISSING) and, under it,
how to get each missing dataset. Only file checks run: torch is never imported, and "present"
says the files are there, not that their contents are sound. `status --check` also reads,
validates and caches each present domain exactly as a search's preflight does (present, or
BROKEN with the one line naming the file): the check to run after a download.
download: fetch a domain's downloadable files (resumable, checksummed where published).

Exit status: 0 when every required dataset of the domains shown is present (or the download
finished); 1 (MISSING_EXIT) when a required dataset is missing, misplaced or (with --check)
broken (name one domain to
check just it); 2 for bad usage (an unknown name, a failed download).
"""

from __future__ import annotations

import argparse
import sys

from dabs_lib.datasets import REAL_DOMAINS, DatasetError, dataset_status, fetch
from dabs_lib.datasets.source import DATA_ROOT_ENV, resolve_root

MISSING_EXIT = 1


def _contents_problem(name: str, data_root: str) -> str:
    """'' when the domain's files read, validate and cache as a search would; else the one-line problem."""
    from dabs_lib.domains.door import prepare_domain

    try:
        prepare_domain(name, data_root=str(resolve_root(data_root).resolve()))
    except DatasetError as error:
        return str(error)
    return ""


def status(names: list[str], data_root: str, check: bool = False) -> int:
    print(f"data root: {resolve_root(data_root).resolve()}")
    bad = 0
    for name in names:
        present, how = dataset_status(name, data_root)
        problem = _contents_problem(name, data_root) if present and check else ""
        bad += not present or bool(problem)
        state = (
            "MISSING" if not present else "BROKEN" if problem else "present, contents checked" if check else "present"
        )
        print(f"{name}: {state}")
        for line in how.splitlines() + ([problem] if problem else []):
            print(f"  {line}")
    return MISSING_EXIT if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dabs_lib.datasets")
    parser.add_argument("command", choices=("status", "download"))
    parser.add_argument("name", nargs="?", help=f"a real domain {sorted(REAL_DOMAINS)} or one of its sources")
    parser.add_argument(
        "--check",
        action="store_true",
        help="status: also read, validate and cache each present domain as a search would",
    )
    parser.add_argument(
        "--data-root", default="", help=f"folder holding the datasets (default ${DATA_ROOT_ENV} or ./data)"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "status":
            return status([args.name] if args.name else sorted(REAL_DOMAINS), args.data_root, args.check)
        if not args.name:
            parser.error("download needs a NAME")
        for line in fetch(args.name, args.data_root):
            print(f"manual download needed: {line}")
        return 0
    except (DatasetError, KeyError) as error:
        print(f"error: {error.args[0] if isinstance(error, KeyError) else error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
