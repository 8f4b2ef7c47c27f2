"""Seconds of `python -m dabs_lib.datasets status` against importing what it used to import.

Before it checked files from the torch-free catalogues, `status` imported every loader module,
and with them torch and torchvision. This runs, side by side in fresh processes: the status
command over every real domain (an empty data root), and `import torch, torchvision` (the
floor the old command paid before checking a single file). Median of --repeat runs.

    python bench/status_speed.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = {
    "status (every domain)": [sys.executable, "-m", "dabs_lib.datasets", "status", "--data-root", "{root}"],
    "import torch, torchvision": [sys.executable, "-c", "import torch, torchvision"],
}


def seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, capture_output=True)  # status exits 1 here: every dataset is missing
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="status-bench-")
    times = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):  # interleaved, so machine load hits both alike
        for name, command in COMMANDS.items():
            times[name].append(seconds([part.format(root=root) for part in command]))
    print("| command | median s | runs (s) |\n|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.2f} | {', '.join(f'{v:.2f}' for v in values)} |")


if __name__ == "__main__":
    main()
