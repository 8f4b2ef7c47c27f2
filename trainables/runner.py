"""Start (or join) Ray, run every study of a search request, keep the manifest current."""
from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from pathlib import Path
from typing import Iterator

import ray
from ray import tune

from trainables import storage
from trainables.search import MANIFEST, SearchRequest, build_tuner, storage_abs, study_names, trainable_for

REPO_ROOT = str(Path(__file__).resolve().parent.parent)


@contextlib.contextmanager
def ray_session(address: str = "", num_cpus: int = 0, num_gpus: int | None = None) -> Iterator[None]:
    """A private local Ray (stopped on exit), or the cluster at `address` (left running)."""
    if ray.is_initialized():
        yield
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # our ProgressPrinter replaces Ray's tables
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO_ROOT, os.environ.get("PYTHONPATH")]))
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(num_cpus=num_cpus or os.cpu_count(), num_gpus=num_gpus, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
    try:
        yield
    finally:
        ray.shutdown()


def experiment_uri(request: SearchRequest, name: str) -> str:
    return storage.join(storage_abs(request.storage_path), name)


def write_manifest(uri: str, request: SearchRequest, status: dict[str, str]) -> None:
    storage.write_json(storage.join(uri, MANIFEST), {
        "request": dataclasses.asdict(request),
        "studies": [{"domain": d, "objective": o, "status": status.get(f"{d}-{o}", "pending")}
                    for d, o in study_names(request)],
    })


def run_studies(request: SearchRequest, name: str, status: dict[str, str]) -> dict[str, tune.ResultGrid]:
    uri = experiment_uri(request, name)
    results = {}
    for domain, objective in study_names(request):
        key = f"{domain}-{objective}"
        if status.get(key) == "finished":
            continue
        study_uri = storage.join(uri, key)
        if status.get(key) == "running" and tune.Tuner.can_restore(study_uri):
            print(f"resuming {key} from {study_uri}", flush=True)
            tuner = tune.Tuner.restore(study_uri, trainable_for(request), resume_unfinished=True,
                                       resume_errored=True)
        else:
            tuner = build_tuner(request, domain, objective, name)
        status[key] = "running"
        write_manifest(uri, request, status)
        grid = tuner.fit()
        results[key] = grid
        if _interrupted(grid, 1 if objective == "none" else request.num_samples):
            raise KeyboardInterrupt(f"search interrupted during {key}")
        status[key] = "finished"
        write_manifest(uri, request, status)
    return results


def _interrupted(grid: tune.ResultGrid, expected: int) -> bool:
    """Tune returns normally after a Ctrl-C; unfinished or missing trials tell it apart."""
    return len(grid) < expected or grid.num_terminated + grid.num_errors < len(grid)


def run_search(request: SearchRequest, address: str = "", num_cpus: int = 0) -> tuple[str, dict]:
    """A new search. Returns the experiment URI and the result grid of every study."""
    name = request.experiment_name()
    request = dataclasses.replace(request, name=name)
    uri = experiment_uri(request, name)
    if storage.exists(storage.join(uri, MANIFEST)):
        raise FileExistsError(f"experiment {uri} already exists; use `run_search.py resume {uri}` or another --name")
    status: dict[str, str] = {}
    write_manifest(uri, request, status)
    with ray_session(address, num_cpus, 1 if request.gpus_per_trial else None):
        return uri, run_studies(request, name, status)


def load_manifest(uri: str) -> tuple[SearchRequest, dict[str, str]]:
    manifest_uri = storage.join(uri, MANIFEST)
    if not storage.exists(manifest_uri):
        raise FileNotFoundError(f"{uri} is not a dabs-tune experiment (no {MANIFEST})")
    data = storage.read_json(manifest_uri)
    fields = {f.name for f in dataclasses.fields(SearchRequest)}
    raw = {k: v for k, v in data["request"].items() if k in fields}
    for key in ("domains", "objectives", "space_files"):
        raw[key] = tuple(raw.get(key, ()))
    status = {f"{s['domain']}-{s['objective']}": s["status"] for s in data["studies"]}
    return SearchRequest(**raw), status


def resume_search(uri: str, address: str = "", num_cpus: int = 0) -> tuple[str, dict]:
    """Continue an interrupted search: finished studies are kept, the running one restored."""
    uri = storage_abs(uri)
    request, status = load_manifest(uri)
    parent, name = uri.rstrip("/").rsplit("/", 1)
    request = dataclasses.replace(request, storage_path=parent, name=name)
    with ray_session(address, num_cpus, 1 if request.gpus_per_trial else None):
        return uri, run_studies(request, name, status)


if __name__ == "__main__":  # pragma: no cover - debugging aid
    print(run_search(SearchRequest(smoke_test=True, num_samples=2)), file=sys.stderr)
