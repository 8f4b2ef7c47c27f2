"""`tensorboard` (a local server for one experiment) and `list`."""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import NoReturn

from cli.errors import UserError


def experiment_dir(value: str) -> Path:
    from dabs_lib.experiment import MANIFEST

    path = Path(value)
    if not (path / MANIFEST).is_file():
        raise UserError(f"{value!r} is not a dabs-tune experiment folder (no {MANIFEST} inside)")
    return path


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now (SO_REUSEADDR, as servers bind)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror as error:
            raise UserError(f"--host must be an address of this machine, but got {host!r} ({error.strerror})") from None
        except OSError:
            return False
    return True


PORTS = (1, 65535)  # TCP ports a server can be told to use (0 would pick one the URL cannot name)


def check_port(port: int) -> None:
    if not PORTS[0] <= port <= PORTS[1]:
        raise UserError(f"--port must be in [{PORTS[0]}, {PORTS[1]}], but got {port}")


def _stop_on_term(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt  # SIGTERM/SIGHUP end the wrapper like Ctrl-C: its finally stops TensorBoard


def cmd_tensorboard(args: argparse.Namespace) -> int:
    check_port(args.port)
    logdir = experiment_dir(args.experiment)
    if not port_free(args.host, args.port):
        raise UserError(
            f"--port {args.port}: {args.host}:{args.port} is already in use; choose another port with --port"
        )
    command = [
        sys.executable,
        "-m",
        "tensorboard.main",
        "--logdir",
        str(logdir),
        "--host",
        args.host,
        "--port",
        str(args.port),
    ]
    url = f"http://{args.host}:{args.port}/"
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on_term)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        if not _answers(url, process):
            raise UserError(f"TensorBoard did not start on {url}: {_last_line(process)}")
        print(f"TensorBoard for {logdir} at {url} (Ctrl-C stops it)", flush=True)
        if not args.smoke_test:  # --smoke-test: started and answered; stop it
            process.wait()
    except KeyboardInterrupt:
        print("TensorBoard stopped", flush=True)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return 0


def _last_line(process: subprocess.Popen) -> str:
    """The last non-empty line TensorBoard wrote to stderr (it exited), or why there is none."""
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)
        return "no answer within the time limit"
    lines = [line.strip() for line in (process.stderr.read() or "").splitlines() if line.strip()]
    return lines[-1] if lines else f"it exited with status {process.returncode}"


def _answers(url: str, process: subprocess.Popen, timeout: float = 180.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url + "data/logdir", timeout=2) as response:
                response.read()
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
    list_user_domains(root)


def list_user_domains(root: str) -> None:
    """Your own domains: prepared under the data root, and domain files in $DABS_DOMAINS_DIR."""
    import json

    from dabs_lib.userdomain import DOMAINS_DIR_ENV, available_files
    from dabs_lib.userdomain.prepare import REGISTRATION, user_folder

    prepared = {}
    for path in sorted(user_folder(root, "x").parent.glob(f"*/{REGISTRATION}")):
        try:
            prepared[path.parent.name] = json.loads(path.read_text())["source"]
        except (OSError, ValueError, KeyError):
            continue
    for name, source in prepared.items():
        print(f"{name:<16} {'prepared':<9} your domain file {source}")
    for name, path in available_files().items():
        if name not in prepared:
            print(f"{name:<16} {'file':<9} your domain file {path} (${DOMAINS_DIR_ENV}; prepared on first use)")


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


def objective_descriptions() -> dict[str, str]:
    """name -> first line of the objective module's doc (the classes keep their docs in the module)."""
    from dabs_lib.objectives import OBJECTIVES

    out = {}
    for name, cls in sorted(OBJECTIVES.items()):
        doc = sys.modules[cls.__module__].__doc__ or cls.__doc__ or ""
        out[name] = doc.strip().splitlines()[0] if doc.strip() else ""
    return out


def list_spaces(as_json: bool) -> None:
    from search_spaces import available_spaces

    spaces = available_spaces()
    if as_json:
        print(json.dumps(spaces, indent=1, default=str))
        return
    print(f"{'kind':<10} {'name':<12} description")
    for kind, entries in spaces.items():
        for name, doc in entries.items():
            print(f"{kind.rstrip('s'):<10} {name:<12} {doc}")
    print(
        "\nobjectives and domains merge into one space per (domain, objective); addons are opt-in "
        "(--space NAME); --json for the machine-readable form"
    )


def cmd_list(args: argparse.Namespace) -> int:
    if args.what == "domains":
        list_domains(args)
    elif args.what == "objectives":
        for name, doc in objective_descriptions().items():
            print(f"{name:<12} {doc}")
    elif args.what == "spaces":
        list_spaces(args.json)
    else:
        list_experiments(args)
    return 0
