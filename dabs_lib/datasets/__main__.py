"""`python -m dabs_lib.datasets status|download [NAME] --data-root DIR`.

status: the data root, then one line per real domain (present or MISSING) and, under it,
how to get each missing dataset. Only file checks run: torch is never imported.
download: fetch a domain's downloadable files (resumable, checksummed where published).

Exit status: 0 when every required dataset of the domains shown is present (or the download
finished); 1 (MISSING_EXIT) when a required dataset is missing or misplaced (name one domain to
check just it); 2 for bad usage (an unknown name, a failed download).
"""
from __future__ import annotations

import argparse
import sys

from dabs_lib.datasets import REAL_DOMAINS, DatasetError, dataset_status, fetch
from dabs_lib.datasets.source import DATA_ROOT_ENV, resolve_root

MISSING_EXIT = 1


def status(names: list[str], data_root: str) -> int:
    print(f"data root: {resolve_root(data_root).resolve()}")
    missing = 0
    for name in names:
        present, how = dataset_status(name, data_root)
        missing += not present
        print(f"{name}: {'present' if present else 'MISSING'}")
        for line in how.splitlines():
            print(f"  {line}")
    return MISSING_EXIT if missing else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dabs_lib.datasets")
    parser.add_argument("command", choices=("status", "download"))
    parser.add_argument("name", nargs="?", help=f"a real domain {sorted(REAL_DOMAINS)} or one of its sources")
    parser.add_argument("--data-root", default="", help=f"folder holding the datasets (default ${DATA_ROOT_ENV} or ./data)")
    args = parser.parse_args(argv)
    try:
        if args.command == "status":
            return status([args.name] if args.name else sorted(REAL_DOMAINS), args.data_root)
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
