"""A search's driver never imports torch: it checks names and settings, builds the one Tuner and
runs the searcher, schedulers and callbacks, none of which needs it; only the trials (and a
search's final report) do. torch is about 490 MB of a process's memory (BENCHMARKS.md, "10k
trials"), which a driver holding thousands of Tune trials pays for nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

DRIVER = """
import sys
from cli.search_cmd import validate
from dabs_lib.domain_names import EMBEDDED_DOMAIN_NAMES
from trainables.outcome import journal_for
from trainables.request import SearchRequest
from trainables.runner import experiment_uri
from trainables.search import build_tuner

request = SearchRequest(
    domains=EMBEDDED_DOMAIN_NAMES, objectives=("capri", "emix", "mae", "shed"), num_samples=2, storage_path=sys.argv[1],
    name="exp", smoke_test=True, shared_config=False,
)
validate(request)  # every study's space, its untuned config, the data door
uri = experiment_uri(request, "exp")
build_tuner(request, uri, journal_for(uri))  # the searcher, the schedulers, every callback
print("torch imported" if "torch" in sys.modules else "no torch")
"""


def test_checking_a_search_and_building_its_tuner_imports_no_torch(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "no torch"
