"""--risk and --invariance for a report: the best checkpoint of every objective of a domain
(plus its random-init baseline) handed to analysis.risk.risk_table and
analysis.invariance.invariance_matrix. Each is imported only when asked for."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis.tables import BASELINE, pick_role_trial

if TYPE_CHECKING:
    from dabs_lib.domains.base import Domain

SUPERVISED = "supervised"  # a study of this objective is the risk decomposition's twin


def _encoder_file(checkpoint: str) -> str:
    if not checkpoint or pd.isna(checkpoint):
        return ""
    path = Path(checkpoint)
    path = path / "encoder.pt" if path.is_dir() else path
    return str(path) if path.is_file() else ""


def domain_checkpoints(trials: pd.DataFrame, best: pd.DataFrame) -> dict[str, dict[str, str]]:
    """domain -> {objective: encoder.pt of its best trial, "none": the random-init baseline's}."""
    out: dict[str, dict[str, str]] = {}
    for _, row in best.iterrows():
        found = out.setdefault(row["domain"], {})
        path = _encoder_file(row.get("checkpoint", ""))
        if path:
            found[row["objective"]] = path
        baseline = pick_role_trial(trials, row, "baseline")
        if baseline is not None and _encoder_file(baseline["checkpoint"]):
            found[BASELINE] = _encoder_file(baseline["checkpoint"])
    return out


def domain_args(trial: pd.Series) -> dict:
    """get_domain's arguments as the trial built its domain (params missing from the table: defaults)."""

    def given(key: str) -> Any:
        value = trial.get(key)
        return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value

    return {
        "seed": int(given("data_seed") if given("data_seed") is not None else 42),
        "data_root": str(given("data_root") or ""),
        "smoke": bool(given("smoke_test") or False),
    }


def _domain(trials: pd.DataFrame, name: str) -> Domain:
    from dabs_lib.domains import get_domain

    return get_domain(name, **domain_args(trials[trials["domain"] == name].iloc[0]))


def run_extras(trials: pd.DataFrame, best: pd.DataFrame, risk: bool, invariance: bool) -> dict:
    """{"risk": DataFrame | None, "invariance": {domain: matrix}, "notes": [str]}."""
    out: dict = {"risk": None, "invariance": {}, "notes": []}
    checkpoints = domain_checkpoints(trials, best)
    if risk:
        try:
            from analysis.risk import risk_table
        except ImportError as error:
            out["notes"].append(f"--risk skipped: analysis.risk is not available ({error})")
        else:
            parts = []
            for domain, found in checkpoints.items():
                twin = found.pop(SUPERVISED, None)  # the twin bounds the others; not decomposed itself
                if found:
                    parts.append(risk_table(found, _domain(trials, domain), supervised_checkpoint=twin))
            out["risk"] = pd.concat(parts, ignore_index=True) if parts else None
    if invariance:
        try:
            from analysis.invariance import invariance_matrix
        except ImportError as error:
            out["notes"].append(f"--invariance skipped: analysis.invariance is not available ({error})")
        else:
            for domain, found in domain_checkpoints(trials, best).items():
                # the matrix adds its own random_init row; the `none` checkpoint would repeat it
                searched = {k: v for k, v in found.items() if k != BASELINE}
                if searched:
                    out["invariance"][domain] = invariance_matrix(searched, _domain(trials, domain))
    if (risk or invariance) and not checkpoints:
        out["notes"].append("no completed trial has a checkpoint: risk and invariance need one")
    return out
