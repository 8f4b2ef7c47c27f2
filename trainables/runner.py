"""Start (or join) Ray, run (or resume) an experiment's one Tune run, keep the manifest current."""

from __future__ import annotations

import dataclasses
import shutil
import sys

from ray import tune

from dabs_lib.experiment import MANIFEST, drop_cut_line, journal_path
from dabs_lib.invocation import command
from dabs_lib.safe_io import kill_point, remove_empty
from trainables import storage
from trainables.cluster import ClusterError, TrialDemand, ray_session
from trainables.limits import SCHEDULE_TIMEOUT_S
from trainables.optuna_search import one_reader, relocate_journal
from trainables.outcome import Outcome, finish, journal_for, load_manifest, new_manifest, write_manifest
from trainables.search import SearchRequest, build_tuner, load_plans, storage_abs, trainable_for


def experiment_uri(request: SearchRequest, name: str) -> str:
    return storage.join(storage_abs(request.storage_path), name)


class SearchStopped(RuntimeError):
    """Tune stopped the whole search on a fault outside the trials' code (Ray's memory monitor
    killed a trial's worker while Tune was starting it); the finished trials are kept and
    `resume` continues. One line, naming the experiment."""


def memory_kill(error: BaseException) -> str | None:
    """The first line of Ray's out-of-memory error anywhere in `error`'s chain, else None."""
    from ray.exceptions import OutOfMemoryError

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OutOfMemoryError):
            return str(seen).splitlines()[0].rstrip(".")
        seen = seen.__cause__ or seen.__context__
    return None


def stopped_by_memory(error: BaseException, uri: str) -> SearchStopped | None:
    """A memory kill that ended the Tune run, as SearchStopped; None for anything else."""
    line = memory_kill(error)
    if line is None:
        return None
    return SearchStopped(
        f"{line}; Tune stopped the search and its finished trials are kept: free memory (or lower "
        f"--max-concurrent) and continue with `{command(f'resume {uri}')}`"
    )


def run_search(
    request: SearchRequest, address: str = "", num_cpus: int = 0, schedule_timeout_s: float = SCHEDULE_TIMEOUT_S
) -> tuple[str, Outcome]:
    """A new search: one Tune run for every study. Returns the experiment URI and its outcome."""
    name = request.experiment_name()
    request = dataclasses.replace(request, name=name)
    uri = experiment_uri(request, name)
    if storage.exists(storage.join(uri, MANIFEST)):
        raise FileExistsError(f"experiment {uri} already exists; use `{command(f'resume {uri}')}` or another --name")
    plans, _ = load_plans(request)
    manifest = new_manifest("search", dataclasses.asdict(request), plans)
    fresh = not storage.exists(uri)
    write_manifest(uri, manifest)
    journal = journal_for(uri)
    started = False
    with one_reader(journal):
        try:
            with ray_session(
                address, num_cpus, TrialDemand(request.cpus_per_trial, request.gpus_per_trial), uri, schedule_timeout_s
            ):
                started = True
                kill_point("tune-start")  # test-only: Ray runs, Tune has written nothing (no tuner.pkl)
                grid = build_tuner(request, uri, journal).fit()
        except ClusterError:
            local = storage.local_path(uri)
            if fresh and not started and local:  # refused before any trial: no half-written experiment
                shutil.rmtree(local, ignore_errors=True)
            raise
        return uri, finish(uri, manifest, plans, grid, journal)


def resume_search(
    uri: str, address: str = "", num_cpus: int = 0, schedule_timeout_s: float = SCHEDULE_TIMEOUT_S
) -> tuple[str, Outcome]:
    """Continue an interrupted search: Tune restores its unfinished trials, the searcher its
    studies and the scheduler its rungs; finished trials are kept (set aside from Tune's trial
    table while the run goes on: trainables/tune_state.py), unfinished ones continue."""
    from trainables.tune_state import put_back, set_aside

    uri = storage_abs(uri)
    request = load_manifest(uri, for_resume=True)
    parent, name = uri.rstrip("/").rsplit("/", 1)
    request = dataclasses.replace(request, storage_path=parent, name=name)
    journal = journal_for(uri)
    relocate_journal(journal)  # the experiment may have moved since tuner.pkl was written
    local = storage.local_path(uri)
    for path in remove_empty(local, ("error.pkl",)) if local else ():
        print(f"removed {path}: empty (left by a full disk); Tune would fail unpickling it", flush=True)
    cut = drop_cut_line(local) if local else 0
    if cut and local:
        print(
            f"removed the cut last line of {journal_path(local)} ({cut} bytes): an entry a kill or a full disk "
            "interrupted, which Optuna never applied",
            flush=True,
        )
    if local:
        set_aside(local)
    with one_reader(journal):
        try:
            with ray_session(
                address, num_cpus, TrialDemand(request.cpus_per_trial, request.gpus_per_trial), uri, schedule_timeout_s
            ):
                kill_point("tune-start")
                grid = _restored_or_new(uri, request, journal).fit()
        finally:
            relocate_journal("")
        if local:
            put_back(local)
        plans, _ = load_plans(request)
        return uri, finish(uri, new_manifest("search", dataclasses.asdict(request), plans), plans, grid, journal)


def _restored_or_new(uri: str, request: SearchRequest, journal: str) -> tune.Tuner:
    """Tune's own state when it wrote one; a search stopped before Tune's first snapshot (no
    tuner.pkl, or one that cannot be read) starts its Tune run afresh: the studies live on in
    the journal, so no finished trial is lost and the searcher does not repeat one."""
    from dabs_lib.experiment import tune_state_problem

    local = storage.local_path(uri)
    problem = tune_state_problem(local) if local else ""
    if not problem and tune.Tuner.can_restore(uri):
        return tune.Tuner.restore(uri, trainable_for(request), resume_unfinished=True, resume_errored=True)
    print(
        f"{uri}: {problem or 'Tune state missing'}; starting its Tune run afresh (the Optuna journal keeps "
        "every finished trial)",
        flush=True,
    )
    return build_tuner(request, uri, journal)


if __name__ == "__main__":  # pragma: no cover - debugging aid
    print(run_search(SearchRequest(smoke_test=True, num_samples=2)), file=sys.stderr)
