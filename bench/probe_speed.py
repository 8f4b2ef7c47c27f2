"""Transfer-evaluation speed: DABS's original linear-probe protocol vs featurize-once + L2 path.

Reference (implemented here only, as the original ran it): Linear(D, C) on the mean-pooled
feature of the frozen encoder, AdamW lr 1e-4 / weight decay 1e-4, 100 epochs over
task.train, the encoder re-run on every batch with dropout ON, and (Lightning's default in
the original) the evaluation split, which was the test split, scored after every epoch.
Two reference times are reported: "as original" (every per-epoch evaluation counted) and
"train only" (the epochs plus one final test pass), the conservative one.
Ours: dabs_lib.transfer.evaluate_transfer with a cold cache (featurize train, val, test
once, then the L2 path, choice on val, one test score), and the same call again on a warm
cache ("cached": probe only).
Both run on the same encoder (pretrained with dabs_lib.pretrain, random init under
--smoke-test or --pretrain-steps 0) and the same task; times are medians over --repeats.

    python bench/probe_speed.py                      # digits, speech, captions
    python bench/probe_speed.py --smoke-test         # tiny, for the test suite
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from dabs_lib.domains import get_domain  # noqa: E402
from dabs_lib.domains.base import TransferTask  # noqa: E402
from dabs_lib.encoder import Encoder  # noqa: E402
from dabs_lib.model_config import ModelConfig  # noqa: E402
from dabs_lib.transfer import FeatureCache, ProbeProtocol, evaluate_transfer  # noqa: E402
from dabs_lib.transfer.features import iterate_batches  # noqa: E402
from dabs_lib.transfer.metrics import compute_metric  # noqa: E402
from dabs_lib.transfer.probes import link_scores  # noqa: E402

MODELS = {  # the benchmark encoder; small by default so that 100 reference epochs fit a laptop
    "tiny": ModelConfig(embed_dim=32, depth=2, num_heads=2, head_dim=16, mlp_dim=64, out_dim=32),
    "small": ModelConfig(embed_dim=64, depth=4, num_heads=4, head_dim=16, mlp_dim=128, out_dim=64),
    "dabs": ModelConfig(),
}
DEFAULT_DOMAINS = "digits,speech,captions"  # the real table and two synthetic domains (16 and 24 tokens)
PROTOCOL = ProbeProtocol(pooling="mean")  # the reference probes mean-pooled features too


def _reference_loss(kind: str, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    if kind == "multiclass":
        return F.cross_entropy(logits, labels.long())
    if kind in ("binary", "multilabel"):
        return F.binary_cross_entropy_with_logits(logits, labels.float().reshape(logits.shape))
    if kind == "regression":
        return F.mse_loss(logits, labels.float().reshape(logits.shape))
    raise ValueError(f"the reference protocol probes pooled features; task kind {kind!r} is not supported")


def _shuffled_batches(split, batch_size: int, generator: torch.Generator):
    """Whole batches by fancy indexing (cheaper than DABS's per-row loading: conservative)."""
    order = torch.randperm(len(split), generator=generator)
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        yield [x[index] for x in split.inputs], split.labels[index]


def _reference_score(encoder: Encoder, head: nn.Linear, task: TransferTask, device) -> float:
    encoder.eval()
    scores, labels = [], []
    with torch.no_grad():
        for inputs, y in iterate_batches(task.test, 256):
            logits = head(encoder([x.to(device) for x in inputs]).pooled)
            scores.append(link_scores(task.kind, logits))
            labels.append(y.numpy())
    return compute_metric(task.metric, task.kind, np.concatenate(scores), np.concatenate(labels))


def reference_probe(
    encoder: Encoder, task: TransferTask, epochs: int, batch_size: int, seed: int, dropout: bool = True
) -> dict:
    """DABS's transfer loop; returns the last epoch's test score and the two timings."""
    device = next(encoder.parameters()).device
    torch.manual_seed(seed)
    outputs = 1 if task.kind == "binary" else task.num_classes
    head = nn.Linear(encoder.config.embed_dim, outputs).to(device)
    optimizer = torch.optim.AdamW(head.parameters(), lr=1e-4, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(seed)
    train_seconds = eval_seconds = last_eval = 0.0
    score = float("nan")
    for _ in range(epochs):
        start = time.perf_counter()
        encoder.train(dropout)  # dropout on, as in the original
        for inputs, labels in _shuffled_batches(task.train, batch_size, generator):
            with torch.no_grad():
                features = encoder([x.to(device) for x in inputs]).pooled  # re-encoded every batch
            loss = _reference_loss(task.kind, head(features), labels.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        train_seconds += time.perf_counter() - start
        start = time.perf_counter()
        score = _reference_score(encoder, head, task, device)
        last_eval = time.perf_counter() - start
        eval_seconds += last_eval
    return {"score": score, "as_original": train_seconds + eval_seconds, "train_only": train_seconds + last_eval}


def ours(encoder: Encoder, task: TransferTask, root: Path) -> dict:
    """Cold cache (featurize + probe path), then warm cache (probe only)."""
    start = time.perf_counter()
    cold = evaluate_transfer(encoder, task, PROTOCOL, cache_dir=FeatureCache(root))
    cold_seconds = time.perf_counter() - start
    start = time.perf_counter()
    warm = evaluate_transfer(encoder, task, PROTOCOL, cache_dir=FeatureCache(root))
    assert warm.cache_hit and not cold.cache_hit
    return {
        "score": cold.score,
        "seconds": cold_seconds,
        "cached": time.perf_counter() - start,
        "featurize": cold.featurize_seconds,
        "l2": cold.l2,
    }


def get_encoder(name: str, args: argparse.Namespace, workdir: Path) -> tuple[Encoder, str]:
    domain = get_domain(name, smoke=args.smoke_test)
    if args.smoke_test or args.pretrain_steps == 0:
        torch.manual_seed(0)
        return Encoder(domain.specs, MODELS[args.model]).eval(), "random init"
    from dabs_lib.config import PretrainConfig
    from dabs_lib.pretrain import pretrain

    model = MODELS[args.model]
    config = PretrainConfig(domain=name, objective=args.objective, max_steps=args.pretrain_steps, model=model)
    result = pretrain(config, output_dir=workdir / f"pretrain-{name}", logger=False)
    return result.encoder, f"{args.objective}, {result.steps} steps"


def bench_domain(name: str, args: argparse.Namespace, workdir: Path) -> dict:
    domain = get_domain(name, smoke=args.smoke_test)
    task_name = args.task if args.task and args.task in domain.tasks else domain.default_task
    task = domain.tasks[task_name]
    encoder, source = get_encoder(name, args, workdir)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    encoder.to(device)
    dropout = args.reference_dropout == "on"
    refs = [
        reference_probe(encoder, task, args.epochs, domain.batch_size, seed, dropout)
        for seed in range(args.reference_repeats)
    ]
    mine = [ours(encoder, task, workdir / f"cache-{name}-{repeat}") for repeat in range(args.repeats)]
    median = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    return {
        "domain": name,
        "task": task_name,
        "metric": task.metric,
        "encoder": source,
        "n": f"{len(task.train)}/{len(task.val)}/{len(task.test)}",
        "ref_orig": median(refs, "as_original"),
        "ref_train": median(refs, "train_only"),
        "ours": median(mine, "seconds"),
        "cached": median(mine, "cached"),
        "ref_score": median(refs, "score"),
        "our_score": median(mine, "score"),
    }


def markdown(rows: list[dict], args: argparse.Namespace) -> str:
    head = (
        "| domain | task (metric) | encoder | train/val/test | reference s (as original) | "
        "reference s (train only) | ours s (featurize + path) | ours s (cached) | "
        "speedup (as original) | speedup (train only) | reference score | ours score | ours - reference (points) |"
    )
    lines = [head, "|" + "---|" * 13]
    for r in rows:
        lines.append(
            f"| {r['domain']} | {r['task']} ({r['metric']}) | {r['encoder']} | {r['n']} | {r['ref_orig']:.3g} | "
            f"{r['ref_train']:.3g} | {r['ours']:.3g} | {r['cached']:.3g} | {r['ref_orig'] / r['ours']:.0f}x | "
            f"{r['ref_train'] / r['ours']:.0f}x | {100 * r['ref_score']:.2f} | {100 * r['our_score']:.2f} | "
            f"{100 * (r['our_score'] - r['ref_score']):+.2f} |"
        )
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {os.cpu_count()} cores"
    lines.append("")
    lines.append(
        f"Machine: {device}, torch {torch.__version__}, {torch.get_num_threads()} threads; model "
        f"{args.model} ({MODELS[args.model]}); reference: {args.epochs} epochs, dropout "
        f"{args.reference_dropout}, median of {args.reference_repeats} runs; "
        f"ours: median of {args.repeats} runs."
    )
    lines.append(f"Command: `python bench/probe_speed.py {' '.join(args.argv)}`")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", default=None, help=f"comma-separated DOMAINS keys (default {DEFAULT_DOMAINS})")
    parser.add_argument("--task", default="", help="task name (default: each domain's default task)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of ours (cheap, noisy); medians are reported")
    parser.add_argument("--reference-repeats", type=int, default=1, help="runs of the (slow) reference")
    parser.add_argument("--reference-dropout", choices=("on", "off"), default="on", help="DABS ran with dropout on")
    parser.add_argument("--epochs", type=int, default=100, help="reference epochs (DABS: 100)")
    parser.add_argument("--model", choices=sorted(MODELS), default="tiny", help="encoder size")
    parser.add_argument("--objective", default="emix", help="pretraining objective")
    parser.add_argument("--pretrain-steps", type=int, default=100, help="0 = random-init encoder")
    parser.add_argument("--smoke-test", action="store_true", help="tiny: smoke domains, 2 epochs, 1 repeat")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.smoke_test:
        args.repeats, args.reference_repeats, args.epochs, args.model = 1, 1, 2, "tiny"
    args.domains = args.domains or ("digits" if args.smoke_test else DEFAULT_DOMAINS)
    if min(args.repeats, args.reference_repeats, args.epochs) < 1:
        parser.error(
            f"--repeats, --reference-repeats and --epochs must be >= 1, but got "
            f"{args.repeats}, {args.reference_repeats} and {args.epochs}"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="probe-speed-") as tmp:
        workdir = Path(tmp)
        names = [d.strip() for d in args.domains.split(",") if d.strip()]
        warm_domain = get_domain(names[0], smoke=True)
        warm_task = warm_domain.tasks[warm_domain.default_task]
        warm_encoder = Encoder(warm_domain.specs, MODELS["tiny"])
        reference_probe(warm_encoder, warm_task, 1, 64, 0)  # one-time imports (torch.optim, ...) untimed
        evaluate_transfer(warm_encoder, warm_task, PROTOCOL, cache_dir=FeatureCache(None))
        rows = [bench_domain(name, args, workdir) for name in names]
    print(markdown(rows, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
