"""`precision` through the path a user takes: `pretrain()` (Lightning) with 32-true vs bf16-mixed.

For each domain and model size: rounds of `--steps` training steps with each precision, the
order alternating every round; CPU time per step of the batches (timed inside Lightning, the
first round's first step dropped as warm-up); ratio = median fp32 / median bf16-mixed. Sizes:
`domain` (the domain file's small CPU encoder, what embedded searches train) and `dabs` (the
DABS default ModelConfig: D 256, 12 blocks, 8 x 64 heads). One torch thread by default (a
search trial's share under Ray). bf16 is fast on a CPU only with bf16 matrix units (AMX).

    python bench/precision.py                              # tabular and digits, both sizes
    python bench/precision.py --smoke-test                 # for the test suite
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from dabs_lib.model_config import ModelConfig  # noqa: E402
from dabs_lib.pretrain import pretrain  # noqa: E402
from search_spaces.catalog import load_space  # noqa: E402
from search_spaces.convert import default_config  # noqa: E402
from trainables.settings import split_trial_config  # noqa: E402
from probe_share import StepClock  # noqa: E402
from bench_tables import markdown  # noqa: E402

PRECISIONS = ("32-true", "bf16-mixed")


def config_for(domain: str, objective: str, size: str, steps: int, precision: str, smoke: bool):
    config, _ = split_trial_config(default_config(load_space(objective, domain)))
    model = ModelConfig() if size == "dabs" else config.model
    return dataclasses.replace(config, model=model, max_steps=steps, precision=precision, smoke_test=smoke)


def measure(domain: str, objective: str, size: str, steps: int, rounds: int, smoke: bool) -> dict:
    times: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    for r in range(rounds):
        for precision in PRECISIONS if r % 2 == 0 else PRECISIONS[::-1]:
            clock = StepClock()
            with tempfile.TemporaryDirectory(prefix="dabs-bench-") as out:  # the encoder file is not kept
                pretrain(config_for(domain, objective, size, steps, precision, smoke), out, [clock], logger=False)
            times[precision] += clock.steps[1:] if r == 0 else clock.steps
    fp32, bf16 = (statistics.median(times[p]) for p in PRECISIONS)
    return {
        "domain": domain,
        "objective": objective,
        "model": size,
        "fp32 s/step": fp32,
        "bf16-mixed s/step": bf16,
        "ratio": fp32 / bf16,
        "steps timed (each)": len(times["32-true"]),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--domains", default="tabular,digits")
    p.add_argument("--objectives", default="shed")
    p.add_argument("--sizes", default="domain,dabs")
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--smoke-test", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    steps, rounds = (3, 2) if args.smoke_test else (args.steps, args.rounds)
    rows = [
        measure(d, o, s, steps, rounds, args.smoke_test)
        for d in args.domains.split(",")
        for o in args.objectives.split(",")
        for s in args.sizes.split(",")
    ]
    print(markdown(rows))
    amx = "amx_bf16" in Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else False
    print(
        f"\nCPU has AMX bf16: {amx}. Command: `python bench/precision.py "
        f"{' '.join(argv if argv is not None else sys.argv[1:])}`"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
