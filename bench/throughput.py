"""Training-step, featurization and probe-fit throughput, ours against a reference DABS step.

For each input kind and objective: samples/s of a full training step (forward, backward,
gradient clipping, AdamW), ours (dabs_lib objectives, as SSLSystem steps them) and the
reference (bench/reference_dabs.py, written from DABS's published facts), run in the same
process and interleaved round by round (the starting step rotates every round); the ratio is the
median over rounds of reference time / our time (CPU time of the process on a CPU, wall
time after synchronizing on a GPU). Then samples/s of featurization (eval mode, no grad)
per input kind, and of the probe's L2-path fit at each --probe-rows (features are D wide
whatever the input, so that table is per row count). Peak memory: CUDA's peak allocation
per row on a GPU; on a CPU the process's resident high-water mark over one step, reset before it.
Every variant of ours (--precision fp32,bf16; --attention both: the encoder's plain bf16 CPU
attention switched off too; --compile both) runs in the same interleaved rounds as the
reference. One torch thread on a CPU unless --threads says otherwise (a trial's share under Ray).

Precision is like with like by default: every row runs ours and the reference at the same
precision (--precision fp32,bf16: fp32, and bf16 autocast on both sides); --reference-precision
dabs restores the old comparison (the reference as DABS ran it: fp16 + GradScaler on a GPU, fp32
on a CPU). The default inputs are every input kind at 64 and 256 tokens (LENGTH_INPUTS).
--dabs-code PATH makes the reference's transformer blocks DABS's own code (a checkout of
github.com/alextamkin/dabs; only the cheap embeddings and objective heads stay restated).

GPU mode (--device cuda): the SDPA backend that runs, torch.compile off and on (--compile both),
fused AdamW, model FLOPs per step (torch's FlopCounterMode) and MFU against --peak-tflops,
and aggregate samples/s of 1, 2 and 4 trials packed on one device (bench/packed.py).
Every part runs at smoke size on a CPU (--smoke-test), which the test suite does.

    python bench/throughput.py --inputs 2d-64,1d-256 --objectives emix,shed,mae,capri --pairs 5
    python bench/throughput.py --smoke-test --compile both --packed 1,2
    python bench/throughput.py --dabs-code ~/src/dabs --precision fp32 --pairs 3   # DABS's own blocks
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from bench_steps import (  # noqa: E402
    INPUTS,
    LENGTH_INPUTS,
    SMOKE_INPUTS,
    StepRunner,
    Variant,
    count_flops,
    make_inputs,
    peak_rss_mb,
    peak_tflops,
    reset_peak_rss,
    sdpa_backend,
)
from dabs_lib.model_config import ModelConfig  # noqa: E402
from dabs_lib.transfer.probes import fit_path  # noqa: E402
from dabs_lib.transfer.protocol import ProbeProtocol  # noqa: E402
from reference_dabs import REFERENCE_OBJECTIVES  # noqa: E402
from bench_tables import markdown  # noqa: E402

SMOKE_MODEL = ModelConfig(embed_dim=32, depth=2, num_heads=2, head_dim=16, mlp_dim=64, out_dim=16)


def peak_memory_mb(device: torch.device) -> float:
    """CUDA's peak allocation, or the process's resident high-water mark since the last reset."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return peak_rss_mb()


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    else:
        reset_peak_rss()


def variants(args) -> tuple[Variant, ...]:
    return tuple(Variant(c, p, a) for c in args.compile_modes for p in args.precision for a in args.attention_modes)


def step_rows(args, model: ModelConfig, device: torch.device) -> list[dict]:
    """One row per (input, objective, variant); every variant and the reference in one interleaved run."""
    rows = []
    for input_name in args.inputs:
        specs, batch = INPUTS[input_name] if not args.smoke_test else SMOKE_INPUTS[input_name]
        batch = args.batch_size or batch
        for objective in args.objectives:
            runner = StepRunner(
                objective,
                specs,
                model,
                batch,
                device,
                reference=not args.no_reference,
                variants=variants(args),
                reference_precision=args.reference_precision,
                dabs_code=args.dabs_code,
            )
            rounds = runner.rounds(args.pairs)
            for index, _ours in enumerate(runner.ours):
                rows.append(_step_row(args, runner, index, rounds, input_name, objective, device))
                print(format_row(rows[-1]), flush=True)
    return rows


def _step_row(args, runner: StepRunner, index: int, rounds, input_name: str, objective: str, device) -> dict:
    ours, batch = runner.ours[index], runner.batch
    seconds = statistics.median(r[index] for r in rounds)
    row = {
        "input": input_name,
        "objective": objective,
        "ours": ours.variant.label,
        "batch": batch,
        "ours samples/s": batch / seconds,
        "ours s/step": seconds,
        "sdpa": runner.backend,
    }
    if runner.refs:
        at = runner.ref_index(index)
        ref = statistics.median(r[at] for r in rounds)
        row.update(
            {
                "reference": runner.ref_key(ours.variant) + (" DABS's own blocks" if args.dabs_code else ""),
                "reference samples/s": batch / ref,
                "reference s/step": ref,
                "ratio (median of pairs)": statistics.median(r[at] / r[index] for r in rounds),
            }
        )
    if args.flops:
        flops = count_flops(runner, index)
        row["GFLOP/step"] = flops / 1e9
        peak = peak_tflops(device, args.peak_tflops)
        row["MFU %"] = 100 * flops / seconds / (peak * 1e12) if peak else float("nan")
    reset_peak_memory(device)
    ours.step(runner.inputs)
    row["peak MB"] = peak_memory_mb(device)
    if runner.refs:
        reset_peak_memory(device)
        runner.ref_once(runner.ref_key(ours.variant))
        row["reference peak MB"] = peak_memory_mb(device)
    return row


def featurize_rows(args, model: ModelConfig, device: torch.device) -> list[dict]:
    from dabs_lib.domains.base import TensorSplit
    from dabs_lib.encoder import Encoder
    from dabs_lib.transfer.features import featurize

    rows = []
    for input_name in args.inputs:
        specs, _ = INPUTS[input_name] if not args.smoke_test else SMOKE_INPUTS[input_name]
        n = args.featurize_rows
        split = TensorSplit(tuple(make_inputs(specs, n, torch.device("cpu"))), None, "bench")
        encoder = Encoder(specs, model)
        featurize(encoder, split, device=device, batch_size=256)  # warm-up
        reset_peak_memory(device)
        times = []
        for _ in range(args.repeats):
            start = _clock(device)
            featurize(encoder, split, device=device, batch_size=256)
            times.append(_clock(device) - start)
        row = {
            "input": input_name,
            "rows": n,
            "featurize samples/s": n / statistics.median(times),
            "peak MB": peak_memory_mb(device),
        }
        rows.append(row)
        print(format_row(row), flush=True)
    return rows


def probe_rows(args, width: int, device: torch.device) -> list[dict]:
    protocol = ProbeProtocol()
    rows = []
    generator = torch.Generator().manual_seed(0)
    for n in args.probe_rows:
        features = torch.randn(n, width, generator=generator).numpy()
        labels = (features[:, :10].argmax(1)).astype("int64")  # 10 classes, learnable
        reset_peak_memory(device)
        start = _clock(device)
        fit_path(features, labels, "multiclass", 10, protocol.l2_path, protocol.max_iter, device)
        seconds = _clock(device) - start
        row = {
            "probe rows": n,
            "D": width,
            "strengths": len(protocol.l2_path),
            "fit s": seconds,
            "fit samples/s": n / seconds,
            "peak MB": peak_memory_mb(device),
        }
        rows.append(row)
        print(format_row(row), flush=True)
    return rows


def _clock(device: torch.device) -> float:
    import time

    if device.type == "cuda":
        torch.cuda.synchronize(device)
        return time.perf_counter()
    return time.process_time()


def format_row(row: dict) -> str:
    return "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    split = lambda text: [t for t in text.split(",") if t]  # noqa: E731
    p.add_argument(
        "--inputs",
        type=split,
        default=list(LENGTH_INPUTS),
        help=f"from {list(INPUTS)}; default every input kind at 64 and 256 tokens",
    )
    p.add_argument("--objectives", type=split, default=list(REFERENCE_OBJECTIVES))
    p.add_argument("--pairs", type=int, default=5, help="interleaved rounds (every variant + reference) per row")
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch threads; 0 = 1 on a CPU (a search trial gets 1 CPU from Ray by default, and CPU "
        "time of one thread is the steadiest measure on a shared machine), torch's own on a GPU",
    )
    p.add_argument(
        "--attention",
        choices=("plain", "sdpa", "both"),
        default="plain",
        help="ours on a CPU: the encoder's plain attention path where it is faster (default), "
        "SDPA always, or both side by side",
    )
    p.add_argument("--batch-size", type=int, default=0, help="0 = per input kind (64 unless stated)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--compile", choices=("off", "on", "both"), default="off", help="torch.compile our step")
    p.add_argument(
        "--precision",
        type=split,
        default=["fp32", "bf16"],
        help="ours: fp32 and/or bf16 (autocast); each row's reference runs at the same precision",
    )
    p.add_argument(
        "--reference-precision",
        choices=("same", "dabs"),
        default="same",
        help="same: the reference at each row's precision (like with like); dabs: as DABS ran it "
        "(fp16 + GradScaler on a GPU, fp32 on a CPU), whatever ours runs",
    )
    p.add_argument(
        "--dabs-code",
        default="",
        help="a checkout of github.com/alextamkin/dabs: the reference's transformer blocks are DABS's own "
        "`Transformer` class, imported unchanged (needs einops); default: bench/reference_dabs.py's restatement",
    )
    p.add_argument("--flops", action="store_true", help="count model FLOPs per step and MFU (GPU default)")
    p.add_argument("--peak-tflops", type=float, default=0.0, help="device peak for MFU; 0 = known cards' bf16")
    p.add_argument("--no-reference", action="store_true", help="time ours only")
    p.add_argument("--featurize-rows", type=int, default=1024)
    p.add_argument("--probe-rows", type=lambda t: [int(x) for x in split(t)], default=[1000, 10000, 50000])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument(
        "--packed",
        type=lambda t: [int(x) for x in split(t)],
        default=[],
        help="trials packed on one device, e.g. 1,2,4 (GPU: --gpus-per-trial 1, 0.5, 0.25)",
    )
    p.add_argument("--sections", type=split, default=["step", "featurize", "probe"])
    p.add_argument("--out", default="", help="also write the tables (markdown) to this file")
    p.add_argument("--smoke-test", action="store_true", help="tiny model and inputs, 2 pairs: for CI")
    args = p.parse_args(argv)
    unknown = sorted(set(args.inputs) - set(INPUTS))
    if unknown:
        p.error(f"--inputs must be among {list(INPUTS)}, but got {unknown}")
    bad = sorted(set(args.precision) - {"fp32", "bf16"})
    if bad or not args.precision:
        p.error(f"--precision must be fp32 and/or bf16, but got {args.precision}")
    args.compile_modes = {"off": [False], "on": [True], "both": [False, True]}[args.compile]
    args.attention_modes = {"plain": [True], "sdpa": [False], "both": [True, False]}[args.attention]
    if args.smoke_test:
        args.pairs, args.repeats, args.featurize_rows = 2, 1, 64
        args.probe_rows = [min(n, 300) for n in args.probe_rows][:2]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    device = torch.device(args.device)
    if args.threads or device.type == "cpu":
        torch.set_num_threads(args.threads or 1)
    model = SMOKE_MODEL if args.smoke_test else ModelConfig()
    args.flops = args.flops or device.type == "cuda"
    out = [
        f"Device: {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}), "
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, SDPA backend {sdpa_backend(device)}; "
        f"model {dataclasses.asdict(model)}"
    ]
    if "step" in args.sections:
        out += ["", "Training step (forward, backward, clip, AdamW):", "", markdown(step_rows(args, model, device))]
    if "featurize" in args.sections:
        out += ["", "Featurization (eval, no grad, batch 256):", "", markdown(featurize_rows(args, model, device))]
    if "probe" in args.sections:
        out += [
            "",
            "Probe L2-path fit (multiclass, 10 classes):",
            "",
            markdown(probe_rows(args, model.embed_dim, device)),
        ]
    if args.packed:
        from packed import packed_rows

        out += ["", "Trials packed on one device (aggregate):", "", markdown(packed_rows(args, model, device))]
    out += ["", f"Command: `python bench/throughput.py {' '.join(argv if argv is not None else sys.argv[1:])}`"]
    text = "\n".join(out)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
