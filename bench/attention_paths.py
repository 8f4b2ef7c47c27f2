"""Attention forward + backward on a CPU: SDPA (PyTorch's choice), SDPA's math kernel, and the
encoder's plain path (two matmuls, fp32 softmax), per sequence length and dtype.

What dabs_lib.encoder.CPU_PLAIN_ATTENTION_MAX_LEN rests on. Median CPU time of --repeats calls
(one thread by default: a search trial's share, and the steadiest measure on a shared machine).

    python bench/attention_paths.py                      # (64, 8, L, 64), L = 65, 129, 197, 229
    python bench/attention_paths.py --lengths 8 --batch 2 --repeats 1   # smoke
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

from dabs_lib.encoder import plain_attention  # noqa: E402


def _cpu_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return 1000 * statistics.median(times)


def paths(q, k, v, grad) -> dict:
    def sdpa(backend=None):
        def run():
            with sdpa_kernel([backend]) if backend else contextlib.nullcontext():
                y = F.scaled_dot_product_attention(q, k, v)
            y.backward(grad)

        return run

    def plain():
        plain_attention(q, k, v).backward(grad)

    return {"sdpa (default)": sdpa(), "sdpa math": sdpa(SDPBackend.MATH), "plain": plain}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lengths", default="65,129,197,229")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--head-dim", type=int, default=64)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = []
    for length in (int(x) for x in args.lengths.split(",")):
        for dtype in (torch.float32, torch.bfloat16):
            shape = (args.batch, args.heads, length, args.head_dim)
            q, k, v = (torch.randn(shape, dtype=dtype, requires_grad=True) for _ in range(3))
            timings = {
                name: _cpu_ms(fn, args.repeats) for name, fn in paths(q, k, v, torch.randn(shape, dtype=dtype)).items()
            }
            rows.append({"L": length, "dtype": str(dtype).split(".")[1], **timings})
            print(rows[-1], flush=True)
    keys = list(rows[0])
    print(
        "\n| " + " | ".join(k + (" ms" if k not in ("L", "dtype") else "") for k in keys) + " |\n|" + "---|" * len(keys)
    )
    for row in rows:
        print("| " + " | ".join(f"{row[k]:.1f}" if isinstance(row[k], float) else str(row[k]) for k in keys) + " |")
    print(
        f"\nCommand: `python bench/attention_paths.py {' '.join(argv if argv is not None else sys.argv[1:])}`"
        f" (shape ({args.batch}, {args.heads}, L, {args.head_dim}), forward + backward, {args.threads} thread(s))"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
