"""`python -m dabs_lib.datasets status|download [NAME] --data-root DIR`.

status: one line per real domain (present or missing, and how to get it).
download: fetch a domain's downloadable files (resumable, checksummed where published).
"""
from __future__ import annotations

import argparse
import sys

from dabs_lib.datasets import REAL_DOMAINS, DatasetError, dataset_status, fetch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dabs_lib.datasets")
    parser.add_argument("command", choices=("status", "download"))
    parser.add_argument("name", nargs="?", help=f"a real domain {sorted(REAL_DOMAINS)} or one of its sources")
    parser.add_argument("--data-root", default="", help="folder holding the datasets (default $DABS_DATA_ROOT or ./data)")
    args = parser.parse_args(argv)
    try:
        if args.command == "status":
            for name in [args.name] if args.name else sorted(REAL_DOMAINS):
                present, how = dataset_status(name, args.data_root)
                print(f"{name}: {'present' if present else 'MISSING'}")
                for line in how.splitlines():
                    print(f"  {line}")
            return 0
        if not args.name:
            parser.error("download needs a NAME")
        for line in fetch(args.name, args.data_root):
            print(f"manual download needed: {line}")
        return 0
    except (DatasetError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
