"""The driver's searcher alone at scale: MultiStudySearcher (the experiment's real searcher, its
per-study samplers and the journal file) driven the way Tune drives it, without Ray.

`--slots` trials are kept outstanding: the searcher suggests until that many are live, then the
oldest gets a few intermediate results and completes (final, or stopped early every third
trial, as ASHA does) and the next is suggested. Per size: ms per trial of the searcher's
own calls (suggest + results + complete), p50/p99 of Optuna ask and tell, journal size, the
time to reopen the journal and read every trial (what `resume` and the report do first),
and peak RSS. What Tune and Ray add on top is bench/engine_scale.py's to measure.

    nice -n 19 python bench/searcher_scale.py --trials 1000,5000,10000 --slots 64,256
    python bench/searcher_scale.py --trials 48 --slots 8      # smoke
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from bench_tables import markdown  # noqa: E402
from engine_scale import DOMAINS, OBJECTIVES  # noqa: E402
from engine_scale_parts import optuna_clock, peak_rss_mb  # noqa: E402


def drive(trials: int, slots: int, domains: list[str], objectives: list[str], reports: int) -> dict:
    from dabs_lib.experiment import FINAL, JOURNAL, METRIC
    from trainables.optuna_search import MultiStudySearcher, open_journal
    from trainables.search import SearchRequest, load_plans

    per_study = max(1, trials // (len(domains) * len(objectives)))
    request = SearchRequest(
        domains=tuple(domains),
        objectives=tuple(objectives),
        num_samples=per_study,
        baseline=False,
        smoke_test=True,
        overrides={"max_steps": reports, "eval_every": 1},
    )
    plans, _ = load_plans(request)
    clock = optuna_clock()
    with tempfile.TemporaryDirectory() as root:
        journal = str(Path(root) / JOURNAL)
        searcher = MultiStudySearcher(plans, journal, METRIC, "max", "tpe", 0)
        live: collections.deque = collections.deque()
        issued = done = 0
        cpu = time.process_time()
        while True:
            while len(live) < slots:
                config = searcher.suggest(f"t{issued}")
                if config is None or config == searcher.FINISHED:
                    break
                live.append((f"t{issued}", config))
                issued += 1
            if not live:
                break
            trial_id, config = live.popleft()
            score = 1.0 / (1.0 + sum(abs(v) for v in config.values() if isinstance(v, float)))
            stopped = done % 3 == 2
            last = 1 if stopped else reports
            for step in range(1, last + 1):
                result = {METRIC: score * step / reports, "training_iteration": step, FINAL: step == reports}
                if step < last:
                    searcher.on_trial_result(trial_id, result)
            searcher.on_trial_complete(trial_id, result)
            done += 1
        cpu = time.process_time() - cpu
        size = Path(journal).stat().st_size
        start = time.perf_counter()
        storage = open_journal(journal)
        read = sum(len(storage.get_all_trials(s._study_id)) for s in storage.get_all_studies())
        reload = time.perf_counter() - start
    ask, tell = clock.percentiles_ms("ask"), clock.percentiles_ms("tell")
    return {
        "trials": read,
        "slots": slots,
        "studies": len(plans),
        "searcher ms/trial": 1000 * cpu / max(1, done),
        "ask p50 ms": ask[0],
        "ask p99 ms": ask[1],
        "tell p50 ms": tell[0],
        "tell p99 ms": tell[1],
        "journal MB": size / 2**20,
        "reload s": reload,
        "peak RSS MB": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    split = lambda text: [t for t in text.split(",") if t]  # noqa: E731
    p.add_argument("--trials", type=lambda t: [int(x) for x in split(t)], default=[1000, 5000, 10000])
    p.add_argument("--slots", type=lambda t: [int(x) for x in split(t)], default=[64, 256])
    p.add_argument("--domains", type=split, default=list(DOMAINS))
    p.add_argument("--objectives", type=split, default=list(OBJECTIVES))
    p.add_argument("--reports", type=int, default=3)
    p.add_argument("--out", default="")
    args = p.parse_args(argv)
    rows = []
    for slots in args.slots:
        for trials in args.trials:
            rows.append(drive(trials, slots, args.domains, args.objectives, args.reports))
            print(rows[-1], flush=True)
    text = (
        f"{markdown(rows)}\n\nCommand: `python bench/searcher_scale.py "
        f"{' '.join(argv if argv is not None else sys.argv[1:])}` (one process; peak RSS is the process's so far)"
    )
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
