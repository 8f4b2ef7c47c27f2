"""`tensorboard` (a local server for one experiment) and `list`."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cli.errors import UserError


def experiment_dir(value: str) -> Path:
    from dabs_lib.experiment import MANIFEST

    path = Path(value)
    if not (path / MANIFEST).is_file():
        raise UserError(f"{value!r} is not a dabs-tune experiment folder (no {MANIFEST} inside)")
    return path


def cmd_tensorboard(args: argparse.Namespace) -> int:
    logdir = experiment_dir(args.experiment)
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--host", args.host,
               "--port", str(args.port)]
    url = f"http://{args.host}:{args.port}/"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    print(f"TensorBoard for {logdir} at {url} (Ctrl-C stops it)", flush=True)
    try:
        if args.smoke_test:  # start, check that it answers, stop
            return 0 if _answers(url, process) else 1
        process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
    return 0


def _answers(url: str, process: subprocess.Popen, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url + "data/logdir", timeout=2) as response:
                print(f"TensorBoard answered: {response.read().decode()[:200]}")
                return True
        except OSError:
            time.sleep(0.5)
    return False


def list_domains(args: argparse.Namespace) -> None:
    """One line per domain: name, embedded | present | missing, where its files are. How to get
    the data only for missing domains (every source, optional ones included, under --verbose)."""
    from cli.search_cmd import check_folder_value
    from dabs_lib.datasets import REAL_DOMAINS, dataset_status, domain_sources
    from dabs_lib.datasets.source import resolve_root
    from dabs_lib.domains import DOMAINS

    check_folder_value("--data-root", args.data_root)
    root = args.data_root  # "" -> $DABS_DATA_ROOT, else ./data, as the loaders resolve it
    print(f"data root: {resolve_root(root).resolve()}")
    for name in sorted(DOMAINS):
        if name not in REAL_DOMAINS:
            print(f"{name:<16} {'embedded':<9} in memory, no files")
            continue
        present, how = dataset_status(name, root)
        folders = ", ".join(str(s.folder(root)) for s in domain_sources(name)[0])
        print(f"{name:<16} {'present' if present else 'missing':<9} {folders}")
        for line in how.splitlines():
            if args.verbose or (not present and line.startswith("[required]")):
                print(f"    {line}")


def list_experiments(args: argparse.Namespace) -> None:
    from dabs_lib.experiment import MANIFEST, ExperimentError, read_manifest

    root = Path(args.storage_path)
    found = sorted(p.parent for p in root.glob(f"*/{MANIFEST}")) if root.is_dir() else []
    if not found:
        print(f"no experiments under {root}")
    for path in found:
        try:
            manifest = read_manifest(path)
        except ExperimentError as error:
            print(f"{str(path):<60} unreadable: {error}")
            continue
        done = sum(s.status == "finished" for s in manifest.studies)
        print(f"{str(path):<60} {manifest.kind} {manifest.status}: {done}/{len(manifest.studies)} studies finished")


def cmd_list(args: argparse.Namespace) -> int:
    if args.what == "domains":
        list_domains(args)
    elif args.what == "objectives":
        from dabs_lib.objectives import OBJECTIVES

        for name, cls in sorted(OBJECTIVES.items()):
            print(f"{name:<12} {(cls.__doc__ or '').strip().splitlines()[0] if cls.__doc__ else ''}")
    elif args.what == "spaces":
        from search_spaces import available_spaces

        print(json.dumps(available_spaces(), indent=1, default=str))
    else:
        list_experiments(args)
    return 0
