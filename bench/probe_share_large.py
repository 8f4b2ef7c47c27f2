"""The in-trial probe's share on a large task at the DABS model size (bench/probe_share.py --dabs-rows).

A real domain's untuned search config (its model, batch and eval_every; cifar10_small by
default: DABS size, 3x32x32 images, batch 128, eval_every 50), with synthetic inputs of that
domain's shape: `rows` train examples and rows/10 val (as the carve would make), 10 classes.
One evaluation period is extrapolated: the median CPU time of --period-steps training steps
(forward, backward, clip, fused AdamW, as SSLSystem steps; one warm-up first) x eval_every,
because a full DABS-size period takes many minutes on a CPU. The probe is `probe_val` as a
trial runs it, once per `search_rows` value given (the seeded sample, then the L2 path).
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from bench_steps import INPUTS, Ours, Variant, make_inputs  # noqa: E402
from dabs_lib.domains.base import TensorSplit, TransferTask  # noqa: E402
from dabs_lib.encoder import Encoder  # noqa: E402
from dabs_lib.model_config import ModelConfig  # noqa: E402
from dabs_lib.objectives import OBJECTIVES  # noqa: E402
from dabs_lib.experiment import probe_protocol  # noqa: E402
from dabs_lib.transfer import probe_val  # noqa: E402
from search_spaces.catalog import load_space  # noqa: E402
from search_spaces.convert import default_config  # noqa: E402
from trainables.settings import split_trial_config  # noqa: E402

# real domain -> the bench input kind of its shape (bench_steps.INPUTS, which names DABS's datasets)
DOMAIN_INPUTS = {
    "cifar10_small": "2d64",
    "cifar10": "2d196",
    "wikitext103": "tokens128",
    "pamap2": "1d",
    "higgs": "tabular",
    "mscoco": "image+caption",
}
SMOKE_MODEL = ModelConfig(embed_dim=32, depth=2, num_heads=2, head_dim=16, mlp_dim=64, out_dim=16)


def synthetic_task(specs, rows: int, classes: int = 10, seed: int = 0) -> TransferTask:
    """Random inputs of `specs`; labels from a fixed projection of the inputs, so they are learnable."""

    def split(n: int, name: str, offset: int) -> TensorSplit:
        inputs = tuple(make_inputs(specs, n, torch.device("cpu"), seed + offset))
        flat = inputs[0].reshape(n, -1).float()
        weights = torch.randn(flat.shape[1], classes, generator=torch.Generator().manual_seed(seed))
        return TensorSplit(inputs, (flat @ weights).argmax(1), name)

    return TransferTask(
        "synthetic",
        "multiclass",
        "accuracy",
        classes,
        split(rows, f"train x{rows}", 1),
        split(max(1, rows // 10), "val", 2),
        split(10, "test", 3),
    )


def step_seconds(objective: str, specs, model: ModelConfig, batch: int, steps: int) -> tuple[float, Encoder]:
    torch.manual_seed(0)
    ours = Ours(OBJECTIVES[objective](Encoder(specs, model)).train(), Variant(), torch.device("cpu"))
    inputs = make_inputs(specs, batch, torch.device("cpu"))
    ours.step(inputs)  # warm-up
    times = []
    for _ in range(steps):
        start = time.process_time()
        ours.step(inputs)
        times.append(time.process_time() - start)
    return statistics.median(times), ours.module.encoder


def measure_dabs(domain: str, objective: str, rows: int, steps: int, search_rows: list[int], smoke: bool) -> list[dict]:
    config, settings = split_trial_config(default_config(load_space(objective, domain)))
    model = SMOKE_MODEL if smoke else config.model
    specs = INPUTS[DOMAIN_INPUTS[domain]][0]
    batch = 4 if smoke else config.batch_size
    per_step, encoder = step_seconds(objective, specs, model, batch, steps)
    period = per_step * settings.eval_every
    task = synthetic_task(specs, rows)
    out = []
    for n in search_rows:
        protocol = dataclasses.replace(probe_protocol(settings), search_rows=n)
        start = time.process_time()
        probe_val(encoder.eval(), task, protocol)
        probe = time.process_time() - start
        out.append(
            {
                "domain": f"{domain} shape, synthetic ({rows} train rows, {'smoke' if smoke else 'DABS'} size)",
                "objective": objective,
                "eval_every": settings.eval_every,
                "batch": batch,
                "train rows": rows,
                "probe rows (train)": min(rows, n or rows),
                "period CPU s": period,
                "probe CPU s": probe,
                "probe share %": 100 * probe / (period + probe),
                "note": f"period = {steps} steps x eval_every",
            }
        )
        print(out[-1], flush=True)
    return out
