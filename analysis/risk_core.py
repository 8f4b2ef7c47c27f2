"""Risk decomposition of a linear probe's error (Dubois et al., ICML 2023): the pure core.

r(A -> B) is the error of a linear probe fitted on the frozen features of A and scored on
B. Every metric in METRIC_DIRECTIONS is higher-is-better with a best value of 1, so
error = 1 - score (accuracy -> misclassification rate; auroc, mcc, f1_weighted,
pearson, spearman -> distance from a perfect score); a lower-is-better metric would be
its own error. S is a stratified (by class, for multiclass/binary tasks; uniform
otherwise), seeded subset of the probe pool with |S| = min(|test|, 10% of the pool).

    approximation           r_twin(fit -> fit)       (NaN without a supervised twin)
    usability               r(fit -> fit) - approximation   (absorbs approximation without twin)
    probe generalization    r(heldout -> S) - r(fit -> fit)
    encoder generalization  r(fit -> test) - r(heldout -> S)
    aggregate               r(fit -> test) = the sum of the raw components (NaN counted as 0)

Full-shot (shots = 0): fit = the whole pool, heldout = pool \\ S (Dubois's definition).
Few-shot (shots = n): fit = n examples per class drawn from pool \\ S (a fresh seeded draw
each time), and heldout = that same draw, so one probe gives all three errors and S and
test are disjoint from every draw. The twin's approximation uses the same fitting rows.
Each probe's L2 strength is chosen on the validation features, never on S or test.
Clipped components are max(0, raw); they no longer sum to the aggregate.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch

from dabs_lib.domains.base import METRIC_DIRECTIONS
from dabs_lib.registry import lookup
from dabs_lib.transfer.features import FeatureSet
from dabs_lib.transfer.fewshot import fewshot_draw
from dabs_lib.transfer.protocol import ProbeProtocol
from dabs_lib.transfer.selection import score_probe, select_probe

COMPONENTS = ("approximation", "usability", "probe_generalization", "encoder_generalization")
ERRORS = ("train_error", "s_error", "test_error")  # r(fit -> fit), r(heldout -> S), r(fit -> test)
SUBSET_FRACTION = 0.1  # |S| is at most this share of the pool
STRATIFIED_KINDS = ("multiclass", "binary")  # kinds with one class per example (stratify, few-shot)


class ProbeSetup(NamedTuple):
    """What every probe of one decomposition shares."""

    kind: str  # task kind (TASK_KINDS)
    metric: str  # one of METRIC_DIRECTIONS
    num_classes: int  # as in TransferTask
    protocol: ProbeProtocol = ProbeProtocol()  # L2 path and L-BFGS budget
    device: torch.device = torch.device("cpu")  # where probes are fitted


class SplitFeatures(NamedTuple):
    """Features of one encoder on one task: probe pool, L2-selection split and test."""

    pool: FeatureSet  # the probe-training pool (task.train, minus val when val is carved)
    val: FeatureSet  # chooses each probe's L2 strength; disjoint from pool and test
    test: FeatureSet  # scored, never fitted or selected on


def error_of(metric: str, score: float) -> float:
    """1 - score for higher-is-better metrics (all of ours top out at 1), else the score."""
    higher = lookup(METRIC_DIRECTIONS, metric, "metric")
    return 1.0 - float(score) if higher else float(score)


def subset_size(n_pool: int, n_test: int, fraction: float = SUBSET_FRACTION) -> int:
    """|S| = min(|test|, fraction x |pool|), kept within [1, n_pool - 1]."""
    if n_pool < 2:
        raise ValueError(f"risk decomposition needs a probe pool of at least 2 examples, but got {n_pool}")
    return int(min(max(1, min(n_test, round(fraction * n_pool))), n_pool - 1))


def stratified_subset(ids: np.ndarray, labels: np.ndarray | None, size: int, seed: int) -> np.ndarray:
    """`size` sorted ids; each class gets its share (largest remainder). labels=None: uniform."""
    rng = np.random.default_rng([seed, 1])  # its own stream, apart from the few-shot draws
    if labels is None:
        return np.sort(rng.choice(ids, size=size, replace=False))
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * size / counts.sum()
    take = np.floor(quota).astype(np.int64)
    take[np.argsort(-(quota - take), kind="stable")[: size - int(take.sum())]] += 1
    chosen = [rng.choice(ids[labels == c], size=k, replace=False) for c, k in zip(classes, take)]
    return np.sort(np.concatenate(chosen))


def pool_strata(pool: FeatureSet, kind: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(example ids, one label per id or None): what S and few-shot draws are taken from."""
    if kind in STRATIFIED_KINDS:
        return pool.rows, np.asarray(pool.labels).reshape(len(pool.rows))
    return np.unique(pool.rows), None


def choose_s(pool: FeatureSet, n_test: int, kind: str, seed: int) -> np.ndarray:
    """Example ids of S (sorted)."""
    ids, labels = pool_strata(pool, kind)
    return stratified_subset(ids, labels, subset_size(len(ids), n_test), seed)


def fewshot_fit_ids(
    pool: FeatureSet, s_ids: np.ndarray, kind: str, shots: int, draws: int, seed: int
) -> list[np.ndarray]:
    """One array of example ids per draw: `shots` per class from pool \\ S, draw d seeded seed + d."""
    if kind not in STRATIFIED_KINDS:
        raise ValueError(f"few-shot risk needs a task of kind {STRATIFIED_KINDS}, but the task kind is {kind!r}")
    ids, labels = pool_strata(pool, kind)
    keep = ~np.isin(ids, s_ids)
    return [ids[keep][fewshot_draw(labels[keep], shots, seed + d)] for d in range(draws)]


def probe_errors(
    fit: FeatureSet, val: FeatureSet, scored: dict[str, FeatureSet], setup: ProbeSetup
) -> tuple[dict[str, float], float]:
    """Fit the L2 path on `fit`, choose on `val`, return (error on each scored split, chosen L2)."""
    protocol = dataclasses.replace(setup.protocol, refit_on="train")  # r(fit -> fit) needs the probe fitted on fit
    chosen = select_probe(fit, val, setup.kind, setup.metric, setup.num_classes, protocol, setup.device)
    metric = setup.metric
    errors = {name: error_of(metric, score_probe(chosen.probe, split, metric)) for name, split in scored.items()}
    return errors, chosen.l2


def training_error(fit: FeatureSet, val: FeatureSet, setup: ProbeSetup) -> float:
    """r(fit -> fit): the approximation error when the features are the supervised twin's."""
    return probe_errors(fit, val, {"fit": fit}, setup)[0]["fit"]


def components_from_risks(
    train_error: float, s_error: float, test_error: float, approx_error: float | None = None
) -> dict:
    """The four components, raw and clipped at 0, and the aggregate; see the module doc."""
    approximation = float("nan") if approx_error is None else float(approx_error)
    raw = {
        "approximation": approximation,
        "usability": train_error - (0.0 if approx_error is None else approximation),
        "probe_generalization": s_error - train_error,
        "encoder_generalization": test_error - s_error,
    }
    clipped = {
        f"{name}_clipped": float(max(0.0, value)) if not np.isnan(value) else value for name, value in raw.items()
    }
    errors = {"train_error": train_error, "s_error": s_error, "test_error": test_error}
    return {**errors, **raw, "aggregate": test_error, **clipped}


def risk_components(
    features: SplitFeatures, setup: ProbeSetup, approx_error: float | None = None, seed: int = 0
) -> dict:
    """Full-shot decomposition of one encoder's features; `approx_error` = twin's r(pool -> pool)."""
    pool, val, test = features
    s_ids = choose_s(pool, test.num_examples, setup.kind, seed)
    rest, s = pool.take(np.setdiff1d(pool_strata(pool, setup.kind)[0], s_ids)), pool.take(s_ids)
    on_pool, l2 = probe_errors(pool, val, {"train": pool, "test": test}, setup)
    on_rest, _ = probe_errors(rest, val, {"s": s}, setup)
    row = components_from_risks(on_pool["train"], on_rest["s"], on_pool["test"], approx_error)
    sizes = {"n_fit": pool.num_examples, "n_s": s.num_examples, "n_test": test.num_examples}
    return {"shots": 0, "draw": 0, **row, "l2": l2, **sizes}


def fewshot_components(
    features: SplitFeatures,
    setup: ProbeSetup,
    fit_ids: np.ndarray,
    s_ids: np.ndarray,
    twin: SplitFeatures | None = None,
) -> dict:
    """One few-shot draw: the probe fitted on `fit_ids`, scored on itself, on S and on test."""
    pool, val, test = features
    fit = pool.take(fit_ids)
    errors, l2 = probe_errors(fit, val, {"train": fit, "s": pool.take(s_ids), "test": test}, setup)
    approx = training_error(twin.pool.take(fit_ids), twin.val, setup) if twin is not None else None
    row = components_from_risks(errors["train"], errors["s"], errors["test"], approx)
    return {**row, "l2": l2, "n_fit": len(fit_ids), "n_s": len(s_ids), "n_test": test.num_examples}


def decompose_features(
    features: SplitFeatures,
    setup: ProbeSetup,
    twin: SplitFeatures | None = None,
    fewshot: tuple[int, ...] = (),
    draws: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per (shots, draw): shots 0 is full-shot, then `draws` draws per few-shot size."""
    if fewshot and draws < 1:
        raise ValueError(f"draws >= 1 must hold for few-shot risk, but got draws={draws}")
    approx = training_error(twin.pool, twin.val, setup) if twin is not None else None
    rows = [risk_components(features, setup, approx, seed)]
    s_ids = choose_s(features.pool, features.test.num_examples, setup.kind, seed)
    for shots in fewshot:
        for draw, fit_ids in enumerate(fewshot_fit_ids(features.pool, s_ids, setup.kind, shots, draws, seed)):
            rows.append({"shots": shots, "draw": draw, **fewshot_components(features, setup, fit_ids, s_ids, twin)})
    return pd.DataFrame(rows)


def summarize_draws(per_draw: pd.DataFrame) -> pd.DataFrame:
    """One row per shots: means over draws, `<name>_std` spreads (ddof 0), clipping after averaging."""
    values = [*ERRORS, *COMPONENTS, "aggregate"]
    groups = per_draw.groupby("shots", sort=True)
    table = groups[values].mean()
    for name in (*COMPONENTS, "aggregate"):
        table[f"{name}_std"] = groups[name].std(ddof=0)
    for name in COMPONENTS:
        table[f"{name}_clipped"] = table[name].clip(lower=0.0)
    table["draws"] = groups.size()
    table["l2"] = groups["l2"].median()
    for name in ("n_fit", "n_s", "n_test"):
        table[name] = groups[name].mean()
    return table.reset_index()
