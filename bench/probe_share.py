"""The in-trial probe's share of a search trial's time, at each domain's default settings.

For every embedded domain (and a synthetic task with --large-rows training rows on the
digits domain's inputs): the untuned search config (search_spaces defaults + objective +
domain file), one evaluation period of pretraining (`eval_every` steps, timed inside
Lightning, batch by batch), then `probe_val` on the default task, as TuneReporter runs it.
share = probe / (period + probe), CPU time of the process (the machine may be shared), one
torch thread by default (a trial's share under Ray). Then a 50k-row synthetic task at the
DABS model size (bench/probe_share_large.py). --search-rows 2000,1000,500 probes every task
once per value, from the same pretrained encoder.

    python bench/probe_share.py                       # every embedded domain + 50k rows
    python bench/probe_share.py --search-rows 2000,1000,500
    python bench/probe_share.py --smoke-test          # for the test suite
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import lightning as L  # noqa: E402
import torch  # noqa: E402

from dabs_lib.domains import EMBEDDED_DOMAINS, get_domain  # noqa: E402
from dabs_lib.domains.base import TensorSplit  # noqa: E402
from dabs_lib.pretrain import pretrain  # noqa: E402
from dabs_lib.transfer import ProbeProtocol, probe_val  # noqa: E402
from search_spaces.catalog import load_space  # noqa: E402
from search_spaces.convert import default_config  # noqa: E402
from trainables.pretrain_transfer import probe_protocol  # noqa: E402
from trainables.settings import split_trial_config  # noqa: E402
from bench_tables import markdown  # noqa: E402


class StepClock(L.Callback):
    """CPU seconds of each training batch (forward, backward, optimizer, logging)."""

    def __init__(self):
        self.steps: list[float] = []
        self._start = 0.0

    def on_train_batch_start(self, *args):
        self._start = time.process_time()

    def on_train_batch_end(self, *args):
        self.steps.append(time.process_time() - self._start)

    @property
    def seconds(self) -> float:
        return sum(self.steps)


def large_task(domain, rows: int, seed: int = 0):
    """The domain's default task with a synthetic train split of `rows` examples of its inputs."""
    task = domain.tasks[domain.default_task]
    g = torch.Generator().manual_seed(seed)
    index = torch.randint(len(task.train), (rows,), generator=g)
    inputs = tuple(
        x[index] + 0.01 * torch.randn(x[index].shape, generator=g) if x.is_floating_point() else x[index]
        for x in task.train.inputs
    )
    return dataclasses.replace(task, train=TensorSplit(inputs, task.train.labels[index], f"train x{rows}"))


def measure(domain_name: str, objective: str, smoke: bool, rows: int = 0, search_rows: list[int] = ()) -> list[dict]:
    """One period of pretraining, then `probe_val` once per search_rows value (the protocol's own
    when none is given): one row each."""
    config, settings = split_trial_config(default_config(load_space(objective, domain_name)))
    config = dataclasses.replace(config, max_steps=settings.eval_every, smoke_test=smoke)
    clock = StepClock()
    with tempfile.TemporaryDirectory(prefix="dabs-bench-") as out:  # the encoder file is not kept
        result = pretrain(config, out, [clock], logger=False)
    domain = get_domain(domain_name, seed=config.data_seed, smoke=smoke)
    task = large_task(domain, rows) if rows else domain.tasks[domain.default_task]
    out = []
    for n in search_rows or [probe_protocol(settings).search_rows]:
        protocol = dataclasses.replace(probe_protocol(settings), search_rows=n)
        start = time.process_time()
        probe_val(result.encoder, task, protocol)
        probe = time.process_time() - start
        out.append(
            {
                "domain": domain_name + (f" ({rows} train rows)" if rows else ""),
                "objective": objective,
                "eval_every": settings.eval_every,
                "batch": config.batch_size or domain.batch_size,
                "train rows": len(task.train),
                "probe rows (train)": min(len(task.train), n or 10**12),
                "period CPU s": clock.seconds,
                "probe CPU s": probe,
                "probe share %": 100 * probe / (clock.seconds + probe),
            }
        )
        print(out[-1], flush=True)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--domains", default=",".join(EMBEDDED_DOMAINS))
    p.add_argument("--objective", default="shed")
    p.add_argument("--large-rows", type=int, default=50_000, help="synthetic task size on digits; 0 = skip")
    p.add_argument(
        "--dabs-rows",
        type=int,
        default=50_000,
        help="train rows of a synthetic task at the DABS model size (bench/probe_share_large.py); 0 = skip",
    )
    p.add_argument("--dabs-domain", default="cifar10_small", help="real domain whose config and input shape it takes")
    p.add_argument("--period-steps", type=int, default=3, help="timed DABS-size steps the period is extrapolated from")
    p.add_argument(
        "--search-rows",
        default="",
        help="search_rows values to probe every task with, one row each; default: ProbeProtocol's own",
    )
    p.add_argument(
        "--threads", type=int, default=1, help="torch threads (a search trial gets 1 CPU from Ray by default)"
    )
    p.add_argument("--smoke-test", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    runs = [(name, 0) for name in args.domains.split(",") if name]
    if args.large_rows:
        runs.append(("digits", 500 if args.smoke_test else args.large_rows))
    rows = []
    search_rows = [int(n) for n in args.search_rows.split(",") if n]
    for name, large in runs:
        rows += measure(name, args.objective, args.smoke_test, large, search_rows)
    if args.dabs_rows:
        from probe_share_large import measure_dabs

        search_rows = search_rows or [ProbeProtocol().search_rows]
        rows += measure_dabs(
            args.dabs_domain,
            args.objective,
            300 if args.smoke_test else args.dabs_rows,
            1 if args.smoke_test else args.period_steps,
            search_rows,
            args.smoke_test,
        )
    print(markdown(rows))
    print(f"\nCommand: `python bench/probe_share.py {' '.join(argv if argv is not None else sys.argv[1:])}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
