"""What the search-efficiency scripts share (search_efficiency.py runs the searches,
efficiency_rerun.py re-runs the chosen configs, efficiency_report.py writes the table): the
constants and the choice of a search's best trial. The three import this module, never each
other in a circle (tests/bench/test_no_import_cycle.py)."""

from __future__ import annotations

ALL_METHODS = ("default", "random", "tpe", "tpe_asha", "gp")
TINY_MODEL = {"embed_dim": 32, "depth": 2, "num_heads": 2, "mlp_dim": 64, "out_dim": 32}
FRESH_SEED_BASE = 1000  # fresh seeds are 1000, 1001, ...: never a search's trial seed
CHECKPOINTS = (0.25, 0.5, 0.75, 1.0)  # budget fractions the table reports


def best_at(trials: list[dict], steps: float) -> dict | None:
    """The completed trial with the highest validation score among those ended by `steps`."""
    done = [t for t in trials if t["state"] == "complete" and t["end_steps"] <= steps + 1e-9]
    return max(done, key=lambda t: (t["val"], -t["number"])) if done else None
