"""bench/warm_start.py: compute-to-reach on search records, and the leave-one-domain-out run at smoke size."""

from __future__ import annotations

import json

import pytest

from bench.warm_search import best_configs, reach_rows, sources_for, steps_to_reach


def _trial(val: float, end_steps: int, state: str = "complete", lr: float = 1e-3) -> dict:
    return {
        "number": 0,
        "params": {"lr": lr},
        "state": state,
        "steps": 100,
        "seconds": 1.0,
        "val": val,
        "test": val,
        "end_steps": end_steps,
        "end_seconds": 1.0,
    }


def _record(domain: str, trials: list[dict]) -> dict:
    return {
        "domain": domain,
        "objective": "mae",
        "method": "tpe_asha",
        "seed": 0,
        "budget_steps": 400,
        "trials": trials,
    }


def test_steps_to_reach_counts_completed_trials_only_and_the_whole_budget_when_never_reached():
    record = _record("digits", [_trial(0.5, 100), _trial(0.9, 150, "pruned"), _trial(0.8, 250), _trial(0.85, 400)])
    assert steps_to_reach(record, 0.8) == (250, True)  # the pruned 0.9 is an intermediate score, not a result
    assert steps_to_reach(record, 0.95) == (400, False)


def test_reach_rows_compare_warm_with_the_cold_searches_final_best(tmp_path):
    (tmp_path / "searches").mkdir()
    cold = _record("tokens", [_trial(0.4, 100), _trial(0.6, 300), _trial(0.5, 400)])
    warm = _record("tokens", [_trial(0.4, 100), _trial(0.65, 200), _trial(0.3, 400)])
    (tmp_path / "searches" / "cold-tokens-s0.json").write_text(json.dumps(cold))
    (tmp_path / "searches" / "warm-tokens-s0.json").write_text(json.dumps(warm))
    [row] = reach_rows(tmp_path, ["tokens"], 1)
    assert (row["target_val"], row["cold_steps"], row["warm_steps"], row["reached"]) == (0.6, 300, 200, True)
    assert row["ratio"] == pytest.approx(200 / 300)


def test_a_warm_search_starts_from_the_other_domains_best_configs_never_its_own(tmp_path):
    paths = []
    for domain, lrs in (("digits", (1e-3, 2e-3, 3e-3)), ("tokens", (5e-4, 6e-4, 7e-4))):
        record = _record(domain, [_trial(0.1 * (i + 1), 100 * (i + 1), lr=lr) for i, lr in enumerate(lrs)])
        paths.append(tmp_path / f"cold-{domain}-s0.json")
        paths[-1].write_text(json.dumps(record))
    assert best_configs(json.loads(paths[0].read_text()), 2) == [{"lr": 3e-3}, {"lr": 2e-3}]
    configs = sources_for(paths, "tokens", "mae", {})
    assert [c["lr"] for c in configs] == [3e-3, 2e-3]  # digits' two best, none of tokens' own


@pytest.mark.slow
def test_warm_start_bench_runs_at_smoke_size(tmp_path):
    from bench.warm_start import main

    assert main(["--smoke-test", "--domains", "digits,tabular", "--workers", "1", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "reach.json").read_text())["rows"]
    assert {r["domain"] for r in rows} == {"digits", "tabular"}
    assert all(r["warm_steps"] > 0 and r["cold_steps"] > 0 for r in rows)
    assert "goal" in (tmp_path / "warm_start.md").read_text()
