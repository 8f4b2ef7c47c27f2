"""Shared pieces of the search tests: a tiny real search request and readers for its output."""
from __future__ import annotations

import json
from pathlib import Path

from trainables.search import SearchRequest

# 4 steps with a probe after each: ASHA has three rungs to cut at, in seconds per trial.
TINY = {"max_steps": 4, "eval_every": 1}


def tiny_request(tmp_path: Path, **changes) -> SearchRequest:
    fields = dict(domains=("digits",), objectives=("emix",), num_samples=6, max_concurrent=2,
                  storage_path=str(tmp_path), name="exp", overrides=dict(TINY), smoke_test=True,
                  baseline=False, seed=0)
    fields.update(changes)
    return SearchRequest(**fields)


def trial_results(study_dir: Path) -> dict[str, list[dict]]:
    """trial folder name -> its reported results, in order."""
    out = {}
    for trial_dir in sorted(p for p in study_dir.iterdir() if p.is_dir() and (p / "params.json").exists()):
        lines = (trial_dir / "result.json").read_text().splitlines() if (trial_dir / "result.json").exists() else []
        out[trial_dir.name] = [json.loads(line) for line in lines if line.strip()]
    return out


def study_states(study_dir: Path) -> dict[int, str]:
    payload = json.loads((study_dir / "study.json").read_text())
    return {row["number"]: row["state"] for row in payload["trials"]}
