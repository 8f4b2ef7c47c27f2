"""Risk decomposition: definitions on a hand-made case, sums, clipping, few-shot draws, end to end."""

import numpy as np
import pytest
import torch

from analysis.risk import (
    COMPONENTS,
    ProbeSetup,
    SplitFeatures,
    choose_s,
    components_from_risks,
    decompose,
    decompose_features,
    error_of,
    fewshot_fit_ids,
    risk_components,
    risk_table,
    stratified_subset,
    subset_size,
    summarize_draws,
)
from dabs_lib.checkpoints import save_encoder
from dabs_lib.domains import get_domain
from dabs_lib.encoder import Encoder
from dabs_lib.model_config import ModelConfig
from dabs_lib.transfer import ProbeProtocol
from dabs_lib.transfer.features import FeatureSet

TINY = ModelConfig(embed_dim=32, depth=2, num_heads=2, mlp_dim=64, out_dim=16)
FAST = ProbeProtocol(l2_min=1e-3, l2_max=1.0, l2_steps=8, max_iter=30)


def tiny(specs, seed):
    torch.manual_seed(seed)
    return Encoder(specs, TINY)


def raw_sum(row) -> float:
    return sum(0.0 if np.isnan(row[name]) else row[name] for name in COMPONENTS)


def test_components_sum_to_aggregate_and_clip():
    row = components_from_risks(0.10, 0.05, 0.20, approx_error=0.02)
    assert row["approximation"] == 0.02 and row["usability"] == pytest.approx(0.08)
    assert row["probe_generalization"] == pytest.approx(-0.05) and row["probe_generalization_clipped"] == 0.0
    assert row["encoder_generalization_clipped"] == pytest.approx(0.15)
    assert raw_sum(row) == pytest.approx(row["aggregate"]) and row["aggregate"] == 0.20
    merged = components_from_risks(0.10, 0.05, 0.20)  # no twin: approximation folds into usability
    assert np.isnan(merged["approximation"]) and np.isnan(merged["approximation_clipped"])
    assert merged["usability"] == pytest.approx(0.10) and raw_sum(merged) == pytest.approx(0.20)


def test_error_per_metric():
    assert error_of("accuracy", 0.75) == pytest.approx(0.25) and error_of("auroc", 1.0) == 0.0
    with pytest.raises(KeyError, match="unknown metric 'rmse'"):
        error_of("rmse", 0.3)


def test_s_is_stratified_sized_and_seeded():
    assert subset_size(1000, 50) == 50 and subset_size(1000, 500) == 100 and subset_size(10, 0) == 1
    labels = np.repeat([0, 1, 2], [60, 30, 10])
    ids = np.arange(100) * 3
    chosen = stratified_subset(ids, labels, 10, seed=0)
    assert np.bincount(labels[chosen // 3]).tolist() == [6, 3, 1]
    np.testing.assert_array_equal(chosen, stratified_subset(ids, labels, 10, seed=0))
    assert not np.array_equal(chosen, stratified_subset(ids, labels, 10, seed=1))


def clusters(n_per_class: int, flipped_per_class: int, rng) -> FeatureSet:
    """1-d features at -1 / +1 by true class; `flipped_per_class` labels of each class are wrong."""
    true = np.repeat([0, 1], n_per_class)
    x = (2.0 * true - 1.0 + rng.normal(scale=0.05, size=len(true)))[:, None].astype(np.float32)
    observed = true.copy()
    for c in (0, 1):
        observed[np.flatnonzero(true == c)[:flipped_per_class]] = 1 - c
    return FeatureSet(x, observed, np.arange(len(true)))


def test_hand_made_case_has_known_components():
    """A linear probe can only predict the cluster, so every error is the share of wrong labels."""
    rng = np.random.default_rng(0)
    pool, val, test = clusters(100, 10, rng), clusters(20, 0, rng), clusters(50, 10, rng)
    wrong = np.flatnonzero(pool.labels != (pool.features[:, 0] > 0))
    features = SplitFeatures(pool, val, test)
    setup = ProbeSetup("binary", "accuracy", 1, FAST)
    s_ids = choose_s(pool, test.num_examples, "binary", seed=0)
    assert len(s_ids) == 20  # min(|test| = 100, 10% of 200)
    s_error = np.isin(s_ids, wrong).mean()
    assert s_error == 0.25  # this seed's S holds more wrong labels than the pool: both generalizations != 0
    row = risk_components(features, setup, approx_error=0.1, seed=0)
    assert row["train_error"] == pytest.approx(0.1, abs=1e-12) and row["test_error"] == pytest.approx(0.2, abs=1e-12)
    assert row["s_error"] == pytest.approx(s_error, abs=1e-12)
    assert row["usability"] == pytest.approx(0.0, abs=1e-12)
    assert row["probe_generalization"] == pytest.approx(s_error - 0.1, abs=1e-12)
    assert row["encoder_generalization"] == pytest.approx(0.2 - s_error, abs=1e-12)
    assert row["encoder_generalization_clipped"] == 0.0  # raw -0.05: noise, clipped at 0
    # the same features as their own twin: the approximation error is the training error
    table = decompose_features(features, setup, twin=features, seed=0)
    assert table.loc[0, "approximation"] == pytest.approx(0.1, abs=1e-12) and raw_sum(table.loc[0]) == pytest.approx(
        0.2
    )


def test_fewshot_draws_avoid_s_and_differ_across_seeds():
    labels = np.repeat([0, 1, 2], 40)
    pool = FeatureSet(np.zeros((120, 2), np.float32), labels, np.arange(120) + 1000)
    s_ids = choose_s(pool, 30, "multiclass", seed=0)
    draws = fewshot_fit_ids(pool, s_ids, "multiclass", shots=5, draws=5, seed=0)
    for ids in draws:
        assert not np.isin(ids, s_ids).any() and np.isin(ids, pool.rows).all()
        assert np.bincount(labels[ids - 1000]).tolist() == [5, 5, 5]
    assert len({tuple(ids) for ids in draws}) == 5
    with pytest.raises(ValueError, match="few-shot risk needs a task of kind"):
        fewshot_fit_ids(pool, s_ids, "regression", 5, 5, 0)


def test_decompose_digits_end_to_end():
    domain = get_domain("digits", smoke=True)
    encoder, twin = tiny(domain.specs, 0), tiny(domain.specs, 1)
    task = domain.tasks["all"]
    per_draw = decompose(
        encoder,
        task,
        supervised=twin,
        protocol=FAST,
        fewshot=(2,),
        draws=5,
        cache_dir=None,
        pretrain=domain.pretrain,
        per_draw=True,
    )
    assert per_draw["shots"].tolist() == [0, 2, 2, 2, 2, 2]
    for _, row in per_draw.iterrows():
        assert raw_sum(row) == pytest.approx(row["aggregate"], abs=1e-9)
    assert per_draw["n_fit"].tolist()[1:] == [20] * 5 and per_draw["n_fit"][0] == len(task.train)
    assert 0.0 < per_draw["s_pretrained"][0] < 1.0  # half the classes of `all` were pretrained on
    summary = summarize_draws(per_draw)
    assert summary["draws"].tolist() == [1, 5]
    few = per_draw[per_draw["shots"] == 2]
    assert summary.loc[1, "aggregate"] == pytest.approx(few["aggregate"].mean())
    assert summary.loc[1, "aggregate_std"] == pytest.approx(few["aggregate"].std(ddof=0))
    for name in COMPONENTS:
        assert (summary[f"{name}_clipped"] >= 0).all()
        assert summary[f"{name}_clipped"].tolist() == pytest.approx(summary[name].clip(lower=0).tolist())


def test_risk_table_and_twin_checks(tmp_path):
    domain = get_domain("digits", smoke=True)
    paths = {
        name: save_encoder(tmp_path / f"{name}.pt", tiny(domain.specs, seed)) for seed, name in enumerate(("a", "b"))
    }
    table = risk_table(
        paths, domain, tasks=("novel",), protocol=FAST, fewshot=(1,), draws=2, cache_dir=tmp_path / "cache"
    )
    assert table["checkpoint"].tolist() == ["a", "a", "b", "b"] and set(table["domain"]) == {"digits"}
    assert table["shots"].tolist() == [0, 1, 0, 1] and table["draws"].tolist() == [1, 2, 1, 2]
    assert table["approximation"].isna().all() and not table["twin"].any()
    assert (table["s_pretrained"] == 0.0).all()  # `novel` classes were never pretrained on
    other = Encoder(domain.specs, ModelConfig(embed_dim=32, depth=1, num_heads=2, mlp_dim=64))
    with pytest.raises(ValueError, match="supervised twin must share"):
        decompose(paths["a"], domain.tasks["novel"], supervised=other, protocol=FAST, fewshot=(), cache_dir=None)
    with pytest.raises(KeyError, match="unknown task 'nope'"):
        risk_table(paths, domain, tasks=("nope",))
