"""One GPU check (under 8 minutes on one H100): the tables BENCHMARKS.md needs from a GPU, in one markdown file.

1. Our training step against the reference DABS step at equal size and equal precision (fp32,
   and bf16 autocast on both sides) for every objective, at 64 and 256 tokens, with achieved
   TFLOP/s and MFU against the card's bf16 peak (bench/throughput.py's rows);
2. the in-trial probe's share of a trial (bench/probe_share.py's measure on an embedded domain);
3. 1, 2 and 4 trials packed on the GPU, per trial and total (bench/packed.py);
4. a real search of --search-minutes on an embedded domain with --gpus-per-trial 0.25 (a
   subprocess of `run_search.py search`, interrupted at the deadline): trials finished, trials
   per minute, best score, and whether every trial's process could use its GPU.

On a CPU, --smoke-test runs every part at toy size (the test suite does), the search with
--gpus-per-trial 0 (a CPU has no GPU to share).

    python bench/gpu_check.py --out bench_out/gpu_check.md          # on the GPU machine
    python bench/gpu_check.py --smoke-test --out /tmp/gpu_check.md  # CI, CPU
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import torch  # noqa: E402

from bench_tables import markdown  # noqa: E402


def step_section(args: argparse.Namespace, device: torch.device) -> list[dict]:
    import throughput

    argv = [
        "--inputs",
        args.inputs,
        "--precision",
        "fp32,bf16",
        "--flops",
        "--pairs",
        str(args.pairs),
        "--sections",
        "step",
        "--device",
        device.type,
    ] + (["--smoke-test"] if args.smoke_test else [])
    targs = throughput.parse_args(argv)
    model = throughput.SMOKE_MODEL if args.smoke_test else throughput.ModelConfig()
    rows = throughput.step_rows(targs, model, device)
    for row in rows:
        row["TFLOP/s"] = row["GFLOP/step"] / row["ours s/step"] / 1000
    keep = (
        "input",
        "objective",
        "ours",
        "reference",
        "batch",
        "ours s/step",
        "reference s/step",
        "ratio (median of pairs)",
        "GFLOP/step",
        "TFLOP/s",
        "MFU %",
    )
    return [{k: row[k] for k in keep if k in row} for row in rows]


def probe_section(args: argparse.Namespace) -> list[dict]:
    from probe_share import measure

    return measure(args.probe_domain, "shed", args.smoke_test, 0, [])


def packed_section(args: argparse.Namespace, device: torch.device) -> list[dict]:
    import throughput
    from packed import packed_rows

    argv = [
        "--inputs",
        args.inputs.split(",")[0],
        "--objectives",
        "shed",
        "--precision",
        "bf16",
        "--pairs",
        str(args.pairs),
        "--packed",
        "1,2" if args.smoke_test else "1,2,4",  # on a 2-core CPU, 4 spawned trials measure only contention
        "--device",
        device.type,
    ] + (["--smoke-test"] if args.smoke_test else [])
    targs = throughput.parse_args(argv)
    model = throughput.SMOKE_MODEL if args.smoke_test else throughput.ModelConfig()
    return packed_rows(targs, model, device)


def search_section(args: argparse.Namespace, device: torch.device) -> list[dict]:
    """A real search, stopped (SIGINT, as Ctrl-C) at the deadline; what it finished is read from disk."""
    from dabs_lib.experiment import open_storage
    from dabs_lib.trial_warnings import WARNINGS
    from trainables.worker import GPU_UNUSABLE

    gpus = 0.25 if device.type == "cuda" else 0.0
    with tempfile.TemporaryDirectory() as root:
        argv = [
            sys.executable,
            str(HERE.parent / "run_search.py"),
            "search",
            "--domain",
            args.search_domain,
            "--objective",
            "shed",
            "--num-samples",
            str(args.search_trials),
            "--gpus-per-trial",
            f"{gpus:g}",
            "--storage-path",
            root,
            "--name",
            "gpu_check",
            "--no-baseline",
        ]
        argv += ["--smoke-test"] if args.smoke_test else []
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            proc.wait(timeout=args.search_minutes * 60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)  # the CLI stops the search cleanly; its trials so far stay on disk
            proc.wait(timeout=120)
        minutes = (time.perf_counter() - start) / 60
        experiment = Path(root) / "gpu_check"
        storage = open_storage(experiment)
        trials = [t for s in storage.get_all_studies() for t in storage.get_all_trials(s._study_id)]
        done = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
        results = [
            json.loads(line)
            for path in experiment.rglob("result.json")
            for line in path.read_text().splitlines()
            if line.strip()
        ]
        best = max((t.value for t in done if t.value is not None), default=float("nan"))
        return [
            {
                "domain": args.search_domain,
                "gpus per trial": gpus,
                "minutes": minutes,
                "trials finished": len(done),
                "trials/min": len(done) / minutes,
                "best val": best,
                "reports": len(results),
                "reports without a usable GPU": sum(GPU_UNUSABLE in r for r in results),
                "exit code": proc.returncode,
                "warnings": len({w for r in results for w in str(r.get(WARNINGS) or "").splitlines() if w}),
            }
        ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--inputs", default="2d-64,1d-256", help="bench/throughput.py inputs for the step rows")
    p.add_argument("--pairs", type=int, default=5)
    p.add_argument("--probe-domain", default="digits")
    p.add_argument("--search-domain", default="digits")
    p.add_argument("--search-minutes", type=float, default=5.0)
    p.add_argument(
        "--search-trials", type=int, default=64, help="the search's --num-samples (it stops at the deadline)"
    )
    p.add_argument("--sections", default="step,probe,packed,search")
    p.add_argument("--out", default="", help="also write the markdown here")
    p.add_argument(
        "--smoke-test",
        action="store_true",
        help="toy sizes, 2 pairs, 1 and 2 trials packed, a 2-trial search of at most 3 min",
    )
    args = p.parse_args(argv)
    if args.smoke_test:
        args.pairs, args.search_trials, args.search_minutes = 2, 2, min(args.search_minutes, 3.0)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    out = [f"# GPU check: {name}, torch {torch.__version__}", ""]
    sections = {
        "step": ("Training step, ours vs reference at equal precision", lambda: step_section(args, device)),
        "probe": ("In-trial probe share", lambda: probe_section(args)),
        "packed": ("Trials packed on one device", lambda: packed_section(args, device)),
        "search": ("Real search", lambda: search_section(args, device)),
    }
    for key in args.sections.split(","):
        title, run = sections[key]
        start = time.perf_counter()
        rows = run()
        out += [f"## {title} ({time.perf_counter() - start:.0f} s)", "", markdown(rows), ""]
        print("\n".join(out[-4:]), flush=True)
    out.append(f"Command: `python bench/gpu_check.py {' '.join(argv if argv is not None else sys.argv[1:])}`")
    text = "\n".join(out)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
