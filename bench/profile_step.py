"""Where a training step's CPU time goes: torch.profiler over our step and the reference's.

    python bench/profile_step.py --objective shed --input 2d64 --depth 2       # BENCHMARKS.md
    python bench/profile_step.py --precision bf16 --attention sdpa

One thread by default (as bench/throughput.py); DABS width at --depth blocks; two profiled
steps each after a warm-up; the table is torch's, sorted by self CPU time.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

import torch  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402

from bench_steps import INPUTS, StepRunner, Variant  # noqa: E402
from dabs_lib.model_config import ModelConfig  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--objective", default="shed")
    p.add_argument("--input", default="2d64", choices=list(INPUTS))
    p.add_argument("--depth", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=0)
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    p.add_argument("--attention", default="plain", choices=("plain", "sdpa"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rows", type=int, default=25)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    specs, batch = INPUTS[args.input]
    model = dataclasses.replace(ModelConfig(), depth=args.depth)
    runner = StepRunner(
        args.objective,
        specs,
        model,
        args.batch_size or batch,
        torch.device("cpu"),
        variants=(Variant(False, args.precision, args.attention == "plain"),),
    )
    runner.rounds(1)  # warm-up
    for name, step in (("ours", runner.ours_once), ("reference", runner.ref_once)):
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(2):
                step()
        print(f"\n{name}: {args.objective}, {args.input}, depth {args.depth}, {args.precision}\n")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
