"""The efficiency report's warm-start measure (issue 25): steps the warm-started TPE + ASHA search
spends to reach the cold one's final best validation score, over the cold one's; on hand-made records."""

import math

from bench.efficiency_report import warm_goal, warm_markdown, warm_reach


def _search(method: str, domain: str, seed: int, vals: list[tuple[str, float]]) -> dict:
    trials, steps = [], 0
    for state, val in vals:
        steps += 100
        trials.append({"state": state, "val": val, "end_steps": steps, "end_seconds": steps / 10})
    return {
        "domain": domain,
        "objective": "mae",
        "method": method,
        "seed": seed,
        "budget_steps": steps,
        "trials": trials,
    }


def test_warm_over_cold_steps_to_the_cold_searchs_final_best():
    cold = _search(
        "tpe_asha", "tabular", 0, [("complete", 0.5), ("complete", 0.9), ("pruned", 0.95), ("complete", 0.8)]
    )
    warm = _search("tpe_asha_warm", "tabular", 0, [("complete", 0.92), ("complete", 0.7)])
    never = _search("tpe_asha_warm", "tokens", 0, [("complete", 0.1), ("complete", 0.2)])
    cold_tokens = _search("tpe_asha", "tokens", 0, [("complete", 0.3)])
    alone = _search("tpe_asha_warm", "sensor", 0, [("complete", 0.9)])  # no cold search: no row
    table = warm_reach([cold, warm, never, cold_tokens, alone])
    rows = table.set_index("domain")
    # the cold best is 0.9 (a pruned trial's 0.95 does not count), reached at 200 steps; warm: at 100
    assert rows.at["tabular", "cold_best_val"] == 0.9 and rows.at["tabular", "cold_steps"] == 200
    assert rows.at["tabular", "warm_steps"] == 100 and rows.at["tabular", "ratio"] == 0.5
    assert math.isinf(rows.at["tokens", "ratio"]) and rows.at["tokens", "warm_steps"] == 200
    assert "sensor" not in rows.index
    goal = warm_goal(table)
    assert goal["domains"] == {"tabular": 0.5, "tokens": math.inf} and goal["met"] == 0 and goal["measured"] == 2
    text = warm_markdown(table, goal)
    assert "| tokens | mae | 0 | 0.3000 | 100 | 200 | 0.2000 | never |" in text and "tokens never" in text


def test_the_full_budget_variant_is_read_by_its_own_name_and_its_queued_trials_are_never_pruned():
    import optuna

    from bench.efficiency_trial import ASHA_REDUCTION, _ReportStep

    cold = _search("tpe_asha", "sensor", 1, [("complete", 0.7), ("complete", 0.8)])
    full = _search("tpe_asha_warm_full", "sensor", 1, [("complete", 0.9)])
    assert warm_reach([cold, full]).empty  # the default method name is the plain warm one
    assert warm_reach([cold, full], method="tpe_asha_warm_full")["ratio"].tolist() == [0.5]
    pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=ASHA_REDUCTION)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    for value in (0.9, 0.8, 0.85):  # three finished trials set the first rung high
        trial = study.ask()
        trial.report(value, 1)
        trial.should_prune()  # records the trial's value at the rung
        study.tell(trial, value)
    low, kept = study.ask(), study.ask()
    for trial in (low, kept):
        trial.report(0.1, 1)
    assert _ReportStep(low, 1).should_prune() and not _ReportStep(kept, 1, keep=True).should_prune()
