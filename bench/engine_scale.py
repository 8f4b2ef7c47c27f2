"""The search engine's own cost at cluster scale, on a simulated cluster, against one plain Tuner + OptunaSearch.

Ours is the real engine end to end: `trainables.runner.run_search` (the manifest, one Tune run,
MultiStudySearcher with a study and a sampler per (domain, objective) in the experiment's Optuna
journal, a scheduler per study, the progress lines, TensorBoard, the outcome) and then
`resume_search` on the finished experiment. Only the trial's work is replaced, by a light
trial (bench/engine_scale_parts.py: a controlled wait and `max_steps` reports, no torch), so
what is measured is the driver. Beside it, at the same size, slots and trial: one plain
`tune.Tuner` + `OptunaSearch` over one study's space (in-memory Optuna storage, one ASHA).

Each (engine, trials, slots) runs in a fresh driver process on a fresh `ray.cluster_utils.Cluster`
(--nodes raylets, slots / nodes CPUs each, --gpus-per-node declared), so peak RSS is per run.
Reported per run: driver CPU seconds per trial, p50/p99 of Optuna ask and tell, journal size and
the time to reload it (ours), resume time (ours), driver peak RSS, trials per minute.

    nice -n 19 python bench/engine_scale.py --trials 1000,5000,10000 --slots 64,256 --out bench_out/scale.md
    python bench/engine_scale.py --smoke-test          # 2 x 2 studies, 8 trials, 4 slots (CI)

`--keep DIR` keeps the experiment of the (one) run of ours in DIR/ours, as the search left it;
bench/resume_phases.py then times `resume_search` of copies of it, phase by phase, for any
version of the code (two versions of `resume` compared on one large experiment built once).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from bench_tables import markdown  # noqa: E402
from engine_scale_parts import WAIT_ENV  # noqa: E402

DOMAINS = (
    "captions",
    "digits",
    "sensor",
    "speech",
    "tabular",
    "tokens",
    "chexpert",
    "cifar10",
    "eurosat",
    "genomics",
    "higgs",
    "pamap2",
)  # 12 domains x 4 objectives = 48 studies
OBJECTIVES = ("emix", "shed", "mae", "capri")


def light_engine():
    """trainables.runner with the light trial in place of pretrain_transfer."""
    from ray import tune

    import trainables.runner as runner
    import trainables.search as search
    from engine_scale_parts import light_trial

    light = tune.with_resources(light_trial, search.TrialResources(1.0, 0.0))
    search.trainable_for = runner.trainable_for = lambda request: light  # the trial's work, nothing of the engine
    return runner, search


def timed_resume(uri: str, address: str) -> float:
    """What a driver killed after the last trial leaves (status "running"), resumed: the journal
    reload and Tune's restore at this size; a finished search refuses to resume."""
    from dabs_lib.experiment import read_manifest
    from trainables.outcome import write_manifest

    runner, _ = light_engine()
    write_manifest(uri, dataclasses.replace(read_manifest(uri), status="running"))
    start = time.perf_counter()
    runner.resume_search(uri, address=address)
    return time.perf_counter() - start


def run_ours(args: argparse.Namespace, address: str, root: str) -> dict:
    from dabs_lib.experiment import journal_path, open_storage

    runner, search = light_engine()
    per_study = max(1, args.trials // (len(args.domains) * len(args.objectives)))
    request = search.SearchRequest(
        domains=tuple(args.domains),
        objectives=tuple(args.objectives),
        num_samples=per_study,
        max_concurrent=args.slots,
        storage_path=root,
        name="ours",
        overrides={"max_steps": args.reports, "eval_every": 1},
        baseline=False,
        smoke_test=True,
        seed=0,
    )
    cpu, wall = time.process_time(), time.perf_counter()
    uri, _ = runner.run_search(request, address=address)
    row = {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}
    journal = journal_path(uri)
    start = time.perf_counter()
    storage = open_storage(uri)
    row["trials"] = sum(len(storage.get_all_trials(s._study_id)) for s in storage.get_all_studies())
    row["reload s"] = time.perf_counter() - start
    row["journal MB"] = journal.stat().st_size / 2**20
    if args.keep:  # kept as the finished search left it, before the resume below changes it
        shutil.copytree(uri, Path(args.keep, "ours"), symlinks=True)
    row["resume s"] = timed_resume(uri, address)
    return row


def run_plain(args: argparse.Namespace, address: str, root: str) -> dict:
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    from dabs_lib.experiment import METRIC
    from engine_scale_parts import light_trial
    from search_spaces.catalog import load_space
    from search_spaces.convert import to_tune

    space = load_space(args.objectives[0], args.domains[0], [], {"max_steps": args.reports, "eval_every": 1})
    param_space = {**space.fixed, **{k: v for k, v in to_tune(space).items() if k in space.search}}
    cpu, wall = time.process_time(), time.perf_counter()
    ray.init(address=address, log_to_driver=False, configure_logging=False)
    try:
        tuner = tune.Tuner(
            tune.with_resources(light_trial, {"cpu": 1}),
            param_space=param_space,
            tune_config=tune.TuneConfig(
                num_samples=args.trials,
                metric=METRIC,
                mode="max",
                search_alg=OptunaSearch(seed=0),
                max_concurrent_trials=args.slots,
                scheduler=ASHAScheduler(max_t=args.reports, grace_period=1, reduction_factor=2),
            ),
            run_config=tune.RunConfig(name="plain", storage_path=root, verbose=0),
        )
        grid = tuner.fit()
    finally:
        ray.shutdown()
    return {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall, "trials": len(grid)}


@contextlib.contextmanager
def _profiled(path: str) -> Iterator[None]:
    """cProfile on the driver's CPU clock (`time.process_time`: its threads count, waiting does
    not), written to `path`; nothing when `path` is empty."""
    if not path:
        yield
        return
    import cProfile

    profile = cProfile.Profile(time.process_time)
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(path)


def one_run(args: argparse.Namespace) -> dict:
    """One engine at one size, in this process (the driver), on its own simulated cluster."""
    from engine_scale_parts import optuna_clock, peak_rss_mb, simulated_cluster

    os.environ[WAIT_ENV] = str(args.wait)
    cluster = simulated_cluster(args.nodes, max(1, args.slots // args.nodes), args.gpus_per_node)
    clock = optuna_clock()
    try:
        with tempfile.TemporaryDirectory() as root, _profiled(args.profile):
            row = (run_ours if args.one == "ours" else run_plain)(args, cluster.address, root)
    finally:
        cluster.shutdown()
    ask, tell = clock.percentiles_ms("ask"), clock.percentiles_ms("tell")
    trials = max(1, row["trials"])
    return {
        "engine": args.one,
        "trials": row["trials"],
        "slots": args.slots,
        "driver CPU ms/trial": 1000 * row["cpu"] / trials,
        "ask p50 ms": ask[0],
        "ask p99 ms": ask[1],
        "tell p50 ms": tell[0],
        "tell p99 ms": tell[1],
        "journal MB": row.get("journal MB", float("nan")),
        "reload s": row.get("reload s", float("nan")),
        "resume s": row.get("resume s", float("nan")),
        "driver peak RSS MB": peak_rss_mb(),
        "trials/min": 60 * trials / row["wall"],
    }


def _child(args: argparse.Namespace, engine: str, trials: int, slots: int) -> dict:
    argv = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--one",
        engine,
        "--trials",
        str(trials),
        "--slots",
        str(slots),
        "--nodes",
        str(args.nodes),
        "--gpus-per-node",
        str(args.gpus_per_node),
        "--reports",
        str(args.reports),
        "--wait",
        str(args.wait),
        "--keep",
        args.keep,
        "--profile",
        f"{args.profile}.{engine}-{trials}-{slots}" if args.profile else "",
        "--domains",
        ",".join(args.domains),
        "--objectives",
        ",".join(args.objectives),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        raise RuntimeError(f"{engine} at {trials} trials, {slots} slots failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    split = lambda text: [t for t in text.split(",") if t]  # noqa: E731
    p.add_argument("--trials", type=lambda t: [int(x) for x in split(t)], default=[1000, 5000, 10000])
    p.add_argument(
        "--slots",
        type=lambda t: [int(x) for x in split(t)],
        default=[64, 256],
        help="concurrent trials (--max-concurrent; the cluster has exactly that many CPUs)",
    )
    p.add_argument("--nodes", type=int, default=4, help="simulated nodes (raylets)")
    p.add_argument("--gpus-per-node", type=int, default=4, help="GPUs each node declares (the trials use none)")
    p.add_argument("--reports", type=int, default=3, help="reports per full-budget trial (max_steps, eval_every 1)")
    p.add_argument("--wait", type=float, default=0.5, help="seconds of the light trial's wait per report")
    p.add_argument("--domains", type=split, default=list(DOMAINS))
    p.add_argument("--objectives", type=split, default=list(OBJECTIVES))
    p.add_argument("--engines", type=split, default=["ours", "plain"])
    p.add_argument("--out", default="", help="also write the table (markdown) here")
    p.add_argument("--smoke-test", action="store_true", help="2 domains x 2 objectives, 8 trials, 4 slots, 2 nodes")
    p.add_argument("--keep", default="", help="keep the experiment of ours (one run) in KEEP/ours")
    p.add_argument(
        "--profile",
        default="",
        help="write a cProfile of each run's driver CPU (run and resume) to PROFILE.<engine>-<trials>-<slots>",
    )
    p.add_argument("--one", choices=("ours", "plain"), help=argparse.SUPPRESS)  # a child: one run, JSON out
    args = p.parse_args(argv)
    if args.smoke_test:
        args.trials, args.slots, args.nodes, args.reports, args.wait = [8], [4], 2, 2, 0.0
        args.domains, args.objectives = args.domains[:2], args.objectives[:2]
    if args.one:
        args.trials, args.slots = args.trials[0], args.slots[0]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one:
        print(json.dumps(one_run(args)), flush=True)
        return 0
    rows = []
    for slots in args.slots:
        for trials in args.trials:
            for engine in args.engines:
                rows.append(_child(args, engine, trials, slots))
                print(rows[-1], flush=True)
    command = " ".join(argv if argv is not None else sys.argv[1:])
    text = (
        f"{len(args.domains)} domains x {len(args.objectives)} objectives, {args.nodes} simulated nodes, "
        f"{args.reports} reports per trial, {args.wait:g} s wait each\n\n{markdown(rows)}\n\n"
        f"Command: `python bench/engine_scale.py {command}`"
    )
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
