"""`search`, `resume` and the no-argument quickstart."""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
from collections.abc import Mapping

from cli.errors import UserError, check_folder_arg, parse_set, refuse_smoke_overrides, split_names, user_errors
from cli.quickstart import QUICKSTART
from trainables.request import SearchRequest, study_overrides, study_pairs


def request_from_args(args: argparse.Namespace) -> SearchRequest:
    from dabs_lib.config import absolute_paths
    from dabs_lib.datasets import REAL_DOMAINS
    from dabs_lib.datasets.source import absolute_root
    from search_spaces import absolute_extra

    from cli.domain_cmd import resolve_domains

    # Paths absolute now: trials run in their own folders, and a resume may start elsewhere.
    domains, domain_files = resolve_domains(args.domain)
    given = parse_set(args.set)
    refuse_smoke_overrides(args.smoke_test, given)
    overrides = absolute_paths(given)
    if domain_files or any(domain in REAL_DOMAINS for domain in domains):
        overrides.setdefault("data_root", absolute_root(""))  # the default root, pinned: resume checks and reads it
    return SearchRequest(
        domains=domains,
        objectives=split_names(args.objective) or ("emix",),
        num_samples=args.num_samples,
        sampler=args.sampler,
        scheduler=args.scheduler or ("fifo" if args.multi_objective else "asha"),
        seed=args.seed,
        cpus_per_trial=args.cpus_per_trial,
        gpus_per_trial=args.gpus_per_trial,
        max_concurrent=args.max_concurrent,
        max_failures=args.max_failures,
        storage_path=args.storage_path,
        name=args.name or "",
        space_files=tuple(absolute_extra(item) for item in args.space or ()),
        overrides=overrides,
        baseline=not args.no_baseline,
        multi_objective=args.multi_objective or "",
        keep_checkpoints=args.keep_checkpoints,
        grace_period=args.grace_period,
        reduction_factor=args.reduction_factor,
        reuse_actors=not args.no_reuse_actors,
        smoke_test=args.smoke_test,
        domain_files=domain_files,
        shared_config=bool(getattr(args, "shared_config", False)),
        warm_start=tuple(os.path.abspath(p) for p in getattr(args, "warm_start", None) or ()),
        prune_warm=bool(getattr(args, "prune_warm_start", False)),
    )


def validate(request: SearchRequest) -> None:
    """Everything that can be checked before Ray starts: names, flags, every search space. The flags
    first: they need nothing imported (a wrong number is answered at once)."""
    checks = [
        (request.num_samples >= 1, f"--num-samples must be >= 1, but got {request.num_samples}"),
        (request.cpus_per_trial > 0, f"--cpus-per-trial must be > 0, but got {request.cpus_per_trial}"),
        (request.gpus_per_trial >= 0, f"--gpus-per-trial must be >= 0, but got {request.gpus_per_trial}"),
        (request.max_concurrent >= 0, f"--max-concurrent must be >= 0, but got {request.max_concurrent}"),
        (request.max_failures >= 0, f"--max-failures must be >= 0, but got {request.max_failures}"),
        (request.keep_checkpoints >= 1, f"--keep-checkpoints must be >= 1, but got {request.keep_checkpoints}"),
        (request.reduction_factor >= 2, f"--reduction-factor must be >= 2, but got {request.reduction_factor}"),
        (request.grace_period >= 1, f"--grace-period must be >= 1, but got {request.grace_period}"),
        (
            not request.prune_warm or bool(request.warm_start),
            "--prune-warm-start needs --warm-start EXPERIMENT..., but no --warm-start was given",
        ),
        (
            not request.multi_objective or request.sampler not in SINGLE_OBJECTIVE_SAMPLERS,
            f"--multi-objective {request.multi_objective} needs a multi-objective sampler (tpe, nsga2, random), "
            f"but got --sampler {request.sampler}, which is single-objective",
        ),
        (
            not request.multi_objective or request.scheduler in MULTI_OBJECTIVE_SCHEDULERS,
            f"--multi-objective {request.multi_objective} needs a scheduler that ranks several objectives "
            f"({', '.join(MULTI_OBJECTIVE_SCHEDULERS)}), but got --scheduler {request.scheduler}, which stops trials "
            f"on one score",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise UserError(message)
    if request.name:
        from dabs_lib.experiment import check_name

        check_name(request.name)
    from trainables.schedulers import REFUSED_SCHEDULERS, SAMPLERS, SCHEDULERS, make_sampler

    if request.scheduler in REFUSED_SCHEDULERS:
        raise UserError(f"--scheduler {request.scheduler}: {REFUSED_SCHEDULERS[request.scheduler]}")
    for flag, name, registry in (
        ("--sampler", request.sampler, SAMPLERS),
        ("--scheduler", request.scheduler, SCHEDULERS),
    ):
        if name not in registry:
            raise UserError(f"{flag}: unknown {flag[2:]} {name!r}; choose from {sorted(registry)}")
    make_sampler(request.sampler, request.seed)  # e.g. cmaes without its package
    check_shared(request)
    if request.warm_start:
        from trainables.warm_start import check_warm_start

        check_warm_start(request.warm_start, request.objectives)
    check_folder_value("--set data_root", request.overrides.get("data_root"))
    check_folder_value("--storage-path", request.storage_path)
    if request.name:
        from trainables import storage
        from trainables.runner import experiment_uri

        uri = experiment_uri(request, request.name)
        if storage.exists(uri):
            raise UserError(f"--name: experiment {uri} already exists; resume it or choose another name")
    preflight_request(request)


def check_shared(request: SearchRequest) -> None:
    """--shared-config: at least two domains, one score per trial, early stopping the aggregate supports."""
    from dabs_lib.experiment import SHARED

    if not request.shared_config:
        return
    checks = [
        (
            len(request.domains) >= 2,
            f"--shared-config needs at least 2 domains, but got --domain {','.join(request.domains)}",
        ),
        (
            SHARED not in request.domains,
            f"--shared-config: no domain may be named {SHARED!r} (the cross-domain "
            f"study's name), but got --domain {','.join(request.domains)}",
        ),
        (
            not request.multi_objective,
            f"--shared-config scores one aggregate, but got --multi-objective {request.multi_objective}",
        ),
        (
            request.scheduler in ("asha", "fifo"),
            f"--shared-config stops early on the aggregate with asha (or "
            f"not at all with fifo), but got --scheduler {request.scheduler}",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise UserError(message)


def preflight_request(request: SearchRequest) -> None:
    """Every study's space loads, its untuned config passes every config check (types, ranges,
    choices such as `precision`), and every domain's data pass the door (search and resume)."""
    from cli.domain_cmd import prepare_user_domains
    from dabs_lib.experiment import SHARED

    # User domains first: registered (so the spaces know their names) and prepared before Ray starts.
    prepare_user_domains(request.domain_files, str(request.overrides.get("data_root", "")))
    prepared: set[tuple[str, str, int, bool]] = set()
    for domain, objective in study_pairs(request):
        # the cross-domain study checks each domain's own space
        for each in request.domains if domain == SHARED else (domain,):
            key = preflight_space(request, each, objective)
            if key not in prepared:  # one preparation per domain and data, whatever the number of objectives
                preflight_data(*key)
                prepared.add(key)


def preflight_space(request: SearchRequest, domain: str, objective: str) -> tuple[str, str, int, bool]:
    """The study's space loads and its untuned config passes every check; returns what the
    domain's data are prepared with: (domain, data_root, data_seed, smoke)."""
    from dataclasses import asdict

    from dabs_lib.settings_rules import check_corners
    from search_spaces import load_space
    from search_spaces.convert import default_config, extremes
    from trainables.settings import split_trial_config

    space = load_space(objective, domain, list(request.space_files), study_overrides(request, objective))
    where = f"the {domain}/{objective} config (search-space files and --set)"
    refuse_split_seed(domain, str(space.fixed.get("data_root", "")), space.fixed, space.search, where=where)
    try:
        config, settings = split_trial_config(default_config(space), where)
        check_corners({**config.to_dict(), **asdict(settings)}, extremes(space), where)
    except (TypeError, ValueError) as error:
        raise UserError(str(error)) from None
    return domain, config.data_root, config.data_seed, config.smoke_test


def refuse_split_seed(domain: str, data_root: str, *given: Mapping[str, object], where: str = "--set") -> None:
    """A user domain's splits are its file's: a data_seed given for one is refused, not dropped."""
    from dabs_lib.userdomain.registered import split_seed_conflict

    for values in given:
        if "data_seed" in values:
            value = values["data_seed"]
            conflict = split_seed_conflict(domain, data_root, value if isinstance(value, int) else "a searched range")
            if conflict:
                raise UserError(f"{where}: {conflict}")


def preflight_data(domain: str, data_root: str, data_seed: int, smoke: bool) -> None:
    """The door: a real domain's files are checked (a missing dataset is one line saying what to
    download, from where, where to put it), then read, validated and cached here, before Ray
    starts, exactly as its trials will read them; a problem in a file's contents is one line
    naming the file, not a traceback from every trial. Trials then only read the cache."""
    from dabs_lib.datasets import REAL_DOMAINS, DatasetError, check_files

    if domain not in REAL_DOMAINS:
        return  # embedded domains are generated in memory from a seed: nothing to read
    from dabs_lib.domains.door import prepare_domain  # torch: only a search of real data reads files here

    check_files(domain, data_root)
    try:
        prepare_domain(domain, seed=data_seed, data_root=data_root, smoke=smoke)
    except DatasetError as error:
        raise UserError(str(error)) from error


SINGLE_OBJECTIVE_SAMPLERS = ("cmaes",)
# Early stopping compares one score; with two objectives no rung can rank trials (build_tuner runs fifo).
MULTI_OBJECTIVE_SCHEDULERS = ("fifo",)


def check_folder_value(where: str, value: object) -> None:
    """A folder given by the user must be a folder when it exists, and no folder above it a file."""
    check_folder_arg(where, value)


def check_ray_flags(args: argparse.Namespace) -> None:
    if args.num_cpus < 0:
        raise UserError(f"--num-cpus must be >= 0, but got {args.num_cpus}")
    if args.address and args.num_cpus:
        raise UserError(
            f"--num-cpus sizes the private Ray only, but got --num-cpus {args.num_cpus} with "
            f"--address {args.address} (a cluster has its own size); drop one"
        )
    timeout = args.schedule_timeout
    if timeout is not None and not (timeout > 0 and math.isfinite(timeout)):
        raise UserError(f"--schedule-timeout must be a positive number of seconds, but got {timeout:g}")
    if timeout is not None and not args.address:
        raise UserError(
            f"--schedule-timeout applies to a cluster joined with --address, but got "
            f"--schedule-timeout {timeout:g} without --address (a private Ray grants at once)"
        )


def check_cluster(request: SearchRequest, address: str, num_cpus: int) -> None:
    """Resources and --address, before anything is written or Ray starts."""
    from trainables.cluster import TrialDemand, check_before_start

    check_before_start(TrialDemand(request.cpus_per_trial, request.gpus_per_trial), address, num_cpus)


def run_and_report(
    request: SearchRequest, address: str, num_cpus: int, resume_uri: str = "", schedule_timeout_s: float | None = None
) -> tuple[str, int]:
    """Run (or resume) the search and print its table; (URI, exit status): 1 when a study's
    every trial errored, with their error lines."""
    from trainables.cluster import ClusterError
    from trainables.limits import SCHEDULE_TIMEOUT_S
    from trainables.runner import resume_search, run_search, stopped_by_memory

    start = time.perf_counter()
    timeout = SCHEDULE_TIMEOUT_S if schedule_timeout_s is None else schedule_timeout_s
    from trainables.runner import experiment_uri
    from trainables.search import storage_abs

    where = storage_abs(resume_uri) if resume_uri else experiment_uri(request, request.experiment_name())
    try:
        if resume_uri:
            uri, outcome = resume_search(resume_uri, address, num_cpus, timeout)
        else:
            uri, outcome = run_search(request, address, num_cpus, timeout)
    except ClusterError as error:  # the cluster cannot run a trial: one line
        raise UserError(str(error)) from None
    except KeyboardInterrupt:
        raise KeyboardInterrupt(where) from None  # run_search.py names the folder to resume
    except Exception as error:  # Ray's memory monitor killed a worker as Tune started it: Tune gives up
        stopped = stopped_by_memory(error, where)
        if stopped is None:
            raise
        raise stopped from error
    print(f"\nsearch {outcome.status} in {time.perf_counter() - start:.0f} s: {uri}")
    for line in outcome.errors:
        print(f"errored: {line}")
    if outcome.failed_studies:
        print(f"every trial errored in: {', '.join(outcome.failed_studies)}", file=sys.stderr)
    from cli.report_cmd import summarize
    from dabs_lib.safe_io import kill_point

    kill_point("report")  # test-only: during the final report (the manifest already says how it ended)
    summarize(uri)
    return uri, 1 if outcome.failed_studies else 0


def cmd_search(args: argparse.Namespace) -> int:
    with user_errors():
        check_ray_flags(args)
        request = request_from_args(args)
        validate(request)
        check_cluster(request, args.address or "", args.num_cpus)
    request = dataclasses.replace(request, name=request.experiment_name())  # named now: an interrupt says where
    return run_and_report(request, args.address or "", args.num_cpus, schedule_timeout_s=args.schedule_timeout)[1]


def cmd_resume(args: argparse.Namespace) -> int:
    from trainables.outcome import load_manifest
    from trainables.search import storage_abs

    with user_errors():
        check_ray_flags(args)
        uri = storage_abs(args.experiment)
        request = load_manifest(uri, for_resume=True)
        check_local_journal(uri)
        preflight_request(request)  # the data may have moved since the search started
        check_cluster(request, args.address or "", args.num_cpus)
    return run_and_report(
        SearchRequest(),
        args.address or "",
        args.num_cpus,
        resume_uri=args.experiment,
        schedule_timeout_s=args.schedule_timeout,
    )[1]


def check_local_journal(uri: str) -> None:
    """A journal that is corrupt, or lacks trials whose folders exist, is refused before Ray starts."""
    from dabs_lib.experiment import check_journal_holds
    from trainables import storage

    local = storage.local_path(uri)
    if local is not None:
        check_journal_holds(local)


def cmd_quickstart(args: argparse.Namespace) -> int:
    settings = dict(QUICKSTART, num_samples=2, seeds=2) if args.smoke_test else dict(QUICKSTART)
    seeds = settings.pop("seeds")
    request = SearchRequest(
        **settings,
        storage_path=args.storage_path,
        name=f"quickstart_{time.strftime('%Y%m%d-%H%M%S')}",
        smoke_test=args.smoke_test,
    )
    print(
        f"quickstart: searching {', '.join(request.objectives)} on {', '.join(request.domains)} "
        f"({request.num_samples} trials each, Optuna TPE + ASHA) plus the random-init baseline",
        flush=True,
    )
    with user_errors():
        validate(request)
    uri, status = run_and_report(request, "", args.num_cpus)
    from cli.report_cmd import report_after_search

    print(report_after_search(uri, seeds=seeds, smoke_test=args.smoke_test))
    return status
