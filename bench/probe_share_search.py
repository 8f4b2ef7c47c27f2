"""The in-search probe's share of real search trials' wall time, per embedded domain.

`bench/probe_share.py` bounds the share from above with CPU time of training batches only;
this runs what a user runs: one real search (Ray Tune, Optuna journal, Lightning, a checkpoint
at every report) of the untuned default config on every embedded domain, one trial at a time
on one CPU, and reads each trial's reports: share = sum of `probe_seconds` (featurize + L2
path, timed inside the trial at every evaluation) / the trial's `seconds` (wall time from the
trial's start to its last report, data building, Lightning, checkpoints and the final
scores included). The `analyze` report prints the same share for any search.

    python bench/probe_share_search.py                        # every embedded domain, ShED
    python bench/probe_share_search.py --objectives shed,mae
    python bench/probe_share_search.py --smoke-test           # for the test suite
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from analysis.results import live_timeline, _read_jsonl  # noqa: E402
from dabs_lib.domains import EMBEDDED_DOMAINS  # noqa: E402
from dabs_lib.experiment import FINAL, PROBE_SECONDS, SECONDS, STEP  # noqa: E402
from trainables.runner import run_search  # noqa: E402
from trainables.request import SearchRequest  # noqa: E402
from bench_tables import markdown  # noqa: E402

SMOKE = {"max_steps": 4, "eval_every": 2}


def trial_shares(experiment: Path) -> list[dict]:
    """One row per trial folder: evaluations, probe seconds, trial seconds, share."""
    rows = []
    for trial in sorted(p for p in experiment.iterdir() if (p / "params.json").is_file()):
        reports, problem = _read_jsonl(trial / "result.json")
        reports = live_timeline(reports)
        if problem or not reports or not reports[-1].get(FINAL):
            raise RuntimeError(f"{trial.name} did not finish: {problem or 'no final report'}")
        probe = sum(r[PROBE_SECONDS] for r in reports)
        domain, objective, _ = trial.name.rsplit("_", 2)
        rows.append(
            {
                "domain": domain,
                "objective": objective,
                "evaluations": len(reports),
                "steps": reports[-1][STEP],
                "probe s": probe,
                "trial s": reports[-1][SECONDS],
                "probe share %": 100 * probe / reports[-1][SECONDS],
            }
        )
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--domains", default=",".join(EMBEDDED_DOMAINS))
    p.add_argument("--objectives", default="shed")
    p.add_argument("--storage-path", default="", help="where the search goes (default: a temporary folder)")
    p.add_argument("--smoke-test", action="store_true")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="probe-share-") as tmp:
        storage = Path(args.storage_path or tmp)
        request = SearchRequest(
            domains=tuple(args.domains.split(",")),
            objectives=tuple(args.objectives.split(",")),
            num_samples=1,
            max_concurrent=1,
            storage_path=str(storage),
            name="probe_share",
            overrides=dict(SMOKE) if args.smoke_test else {},
            smoke_test=args.smoke_test,
            baseline=False,
            scheduler="fifo",
            seed=0,
        )
        start = time.perf_counter()
        uri, _ = run_search(request, num_cpus=1)
        wall = time.perf_counter() - start
        rows = trial_shares(Path(uri))
    print(markdown(rows))
    print(
        f"\nSearch wall time {wall:.0f} s on 1 CPU. "
        f"Command: `python bench/probe_share_search.py {' '.join(argv if argv is not None else sys.argv[1:])}`"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
