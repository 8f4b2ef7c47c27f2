"""Real domains end to end, the user's path: miniature files in the real releases' layouts,
one `run_search.py search` over all of them (one data root, trials of different domains side
by side) and `analyze` through the CLI, every trial scored on every task.

Each domain reads its pretraining set row by row from memory-mapped processed files (the
path every real dataset takes). Trials run 3 one-step epochs (eval_every=1), as a search
trial's epochs are eval_every steps long; the batch fingerprint Lightning logs at each
report must change from epoch to epoch (the row-by-row loader used to replay epoch 0).
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.results import live_timeline
from dabs_lib.domains import get_domain
from tests.dabs_lib.datasets.miniature import write_cifar, write_glue, write_pamap2, write_wikitext
from tests.dabs_lib.datasets.miniature_media import write_audio_mnist, write_librispeech

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
STEPS = 3
WRITERS = {  # domain -> writers of its files (required sources, plus one transfer set where optional)
    "cifar10_small": (write_cifar,),
    "librispeech": (write_librispeech, write_audio_mnist),
    "pamap2": (write_pamap2,),
    "wikitext103": (write_wikitext, write_glue),
}


def _cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, str(ROOT / "run_search.py"), *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _trials(experiment: Path) -> dict[str, list[dict]]:
    out = {}
    for result in experiment.rglob("result.json"):
        rows = [json.loads(line) for line in result.read_text().splitlines() if line.strip()]
        out[result.parent.name] = live_timeline(rows)
    return out


@pytest.fixture(scope="module")
def searched(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(data root, experiment, report) of one search of every real domain, then `analyze`."""
    tmp = tmp_path_factory.mktemp("real")
    data = tmp / "data"
    for writers in WRITERS.values():
        for write in writers:
            write(data)
    _cli(
        "search",
        "--domain",
        ",".join(sorted(WRITERS)),
        "--objective",
        "shed",
        "--num-samples",
        "2",
        "--scheduler",
        "fifo",
        "--no-baseline",
        "--smoke-test",
        "--set",
        f"max_steps={STEPS}",
        "--set",
        "eval_every=1",
        "--set",
        "batch_size=4",
        "--set",
        f"data_root={data}",
        "--storage-path",
        str(tmp / "runs"),
        "--name",
        "exp",
        "--num-cpus",
        "2",
    )
    _cli("analyze", str(tmp / "runs" / "exp"), "--out", str(tmp / "report"))
    return data, tmp / "runs" / "exp", tmp / "report"


@pytest.mark.parametrize("domain", sorted(WRITERS))
def test_search_and_analyze_a_real_domain_from_its_files(domain, searched):
    data, experiment, report = searched
    tasks = sorted(get_domain(domain, data_root=str(data), smoke=True).tasks)
    trials = {name: rows for name, rows in _trials(experiment).items() if name.startswith(f"{domain}_shed_")}
    assert len(trials) == 2, sorted(trials)
    for name, rows in trials.items():
        assert [r["step"] for r in rows] == list(range(1, STEPS + 1)), name
        final = rows[-1]
        assert final.get("final"), name
        for task in tasks:
            assert math.isfinite(final[f"test/{task}"]), (name, task, final)
        fingerprints = [r["data/batch_mean"] for r in rows]
        assert len(set(fingerprints)) == STEPS, (name, fingerprints)  # each epoch reads new rows

    for table in ("transfer", "best_configs"):
        assert (report / "tables" / f"{table}.csv").is_file(), table
    with open(report / "tables" / "transfer.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["task"] for r in rows if r["domain"] == domain} >= set(tasks), rows
