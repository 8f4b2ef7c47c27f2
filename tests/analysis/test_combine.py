"""Combined encoders: concatenation, probing (a single encoder repeats evaluate_transfer), the tables."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from analysis.combine import (
    as_role_scores,
    combinations,
    combined_scores,
    combined_vs_single,
    concat_features,
)
from analysis.trial_measures import RISK_MEASURES, measure_trial
from dabs_lib.checkpoints import save_encoder
from dabs_lib.domains import get_domain
from dabs_lib.encoder import Encoder, ModelConfig
from dabs_lib.transfer.evaluate import evaluate_transfer
from dabs_lib.transfer.features import FeatureSet
from dabs_lib.transfer.protocol import ProbeProtocol

TINY = ModelConfig(embed_dim=32, depth=1, num_heads=2, mlp_dim=64, out_dim=16)
FAST = ProbeProtocol(l2_min=1e-2, l2_max=1e2, l2_steps=8, max_iter=30)


def tiny(specs, seed):
    torch.manual_seed(seed)
    return Encoder(specs, TINY)


def test_combinations_are_singles_pairs_and_all():
    assert combinations(["a", "b", "c"]) == [
        ("a",),
        ("b",),
        ("c",),
        ("a", "b"),
        ("a", "c"),
        ("b", "c"),
        ("a", "b", "c"),
    ]
    assert combinations(["a", "b"]) == [("a",), ("b",), ("a", "b")]
    assert combinations(["a", "b", "c"], pairs=False) == [("a",), ("b",), ("c",), ("a", "b", "c")]


def test_concat_features_puts_encoders_side_by_side_on_the_same_rows():
    rows, labels = np.arange(5), np.arange(5) % 2
    a = FeatureSet(np.ones((5, 3), np.float32), labels, rows)
    b = FeatureSet(np.zeros((5, 2), np.float32), labels, rows)
    both = concat_features([a, b])
    assert both.features.shape == (5, 5) and (both.features[:, :3] == 1).all() and (both.features[:, 3:] == 0).all()
    with pytest.raises(ValueError, match="same rows"):
        concat_features([a, FeatureSet(np.zeros((5, 2), np.float32), labels, rows[::-1].copy())])


def test_combined_scores_single_rows_repeat_evaluate_transfer(tmp_path):
    domain = get_domain("digits", smoke=True)
    paths = {
        name: save_encoder(tmp_path / f"{name}.pt", tiny(domain.specs, seed))
        for seed, name in enumerate(("emix", "shed"))
    }
    table = combined_scores(paths, domain, FAST, cache_dir=tmp_path / "cache")
    assert set(table["combination"]) == {"emix", "shed", "emix+shed"}
    assert set(table["task"]) == set(domain.tasks)
    pair = table[table["combination"] == "emix+shed"]
    assert (pair["dim"] == 2 * TINY.embed_dim).all() and (pair["members"] == 2).all()
    for row in table[table["members"] == 1].itertuples():
        alone = evaluate_transfer(paths[row.combination], domain.tasks[row.task], FAST, cache_dir=None)
        assert row.test == pytest.approx(alone.score, abs=1e-6)
    with pytest.raises(ValueError, match="at least one encoder"):
        combined_scores({}, domain, FAST)


def _long(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {
            "domain": "d",
            "combination": combo,
            "members": combo.count("+") + 1,
            "task": "t",
            "val": np.nan,
            "test": v,
            "dim": 1,
            "seed": seed,
        }
        for combo, scores in values.items()
        for seed, v in enumerate(scores)
    ]
    return pd.DataFrame(rows)


def test_combined_vs_single_pairs_by_seed_against_the_best_member():
    long = _long({"a": [0.5, 0.6, 0.7], "b": [0.6, 0.7, 0.8], "a+b": [0.7, 0.75, 0.9]})
    row = combined_vs_single(long).iloc[0]
    assert row["combination"] == "a+b" and row["best_single"] == "b" and row["n_seeds"] == 3
    assert row["test"] == pytest.approx(np.mean([0.7, 0.75, 0.9]))
    assert row["gain"] == pytest.approx(np.mean([0.1, 0.05, 0.1]))
    diffs = np.array([0.1, 0.05, 0.1])
    from scipy import stats

    half = stats.t.ppf(0.975, 2) * diffs.std(ddof=1) / np.sqrt(3)
    assert row["gain_ci95"] == pytest.approx(half) and bool(row["beyond_noise"]) == (diffs.mean() > half)


def test_combined_rows_join_the_transfer_scores_with_the_baseline():
    long = _long({"a": [0.5], "b": [0.6], "a+b": [0.7]})
    scores = pd.DataFrame(
        [
            {
                "domain": "d",
                "objective": o,
                "role": role,
                "task": "t",
                "experiment": "e",
                "trial": f"d_{o}_000" if role != "baseline" else "d_none_000",
                "seed": 0,
                "test": 0.4 if role == "baseline" else 0.5,
                "val": 0.5,
            }
            for o in ("a", "b")
            for role in ("best", "baseline")
        ]
    )
    joined = as_role_scores(long, scores)
    assert sorted(joined["role"]) == ["baseline", "best"] and set(joined["objective"]) == {"a+b"}
    assert joined.loc[joined["role"] == "best", "test"].item() == 0.7


def test_measure_trial_in_process(tmp_path, monkeypatch):
    domain = get_domain("digits", smoke=True)
    path = save_encoder(tmp_path / "e.pt", tiny(domain.specs, 0))
    job = {
        "experiment": "x",
        "trial": "digits_emix_001",
        "domain": "digits",
        "objective": "emix",
        "encoder": str(path),
        "domain_args": {"seed": 42, "data_root": "", "smoke": True},
        "protocol": {"l2_min": 1e-2, "l2_max": 1e2},
    }
    rows = pd.DataFrame(measure_trial(job, ["invariance", "risk"], str(tmp_path / "cache"), num_samples=32))
    invariance = rows[rows["kind"] == "invariance"]
    assert set(invariance["measure"]) == {"mask", "shuffle", "mix", "noise", "crop"}
    assert (invariance["task"] == "").all()
    assert invariance["value"].between(-1, 1).all()
    risk = rows[rows["kind"] == "risk"]
    assert set(risk["task"]) == set(domain.tasks)
    assert set(risk["measure"]) == set(RISK_MEASURES) - {"approximation"}  # no supervised twin
    assert any((tmp_path / "cache").iterdir())  # the splits went through the on-disk feature cache


def _seed_run(folder, label, seed, final=True):
    trial = folder / f"{label}_seed{seed}"
    (trial / "checkpoint_000002").mkdir(parents=True)
    (trial / "params.json").write_text(json.dumps({"variant": {"label": label, "lr": 1e-3}, "seed": seed}))
    (trial / "result.json").write_text(json.dumps({"training_iteration": 2, "final": final}) + "\n")
    (trial / "checkpoint_000002" / "encoder.pt").write_bytes(b"weights")
    return str(trial / "checkpoint_000002" / "encoder.pt")


def test_seed_encoders_maps_each_fresh_seed_to_the_best_configs_reruns(tmp_path):
    from analysis.why import seed_encoders

    rows = []
    for objective, number in (("emix", 1), ("shed", 2), ("none", 0)):
        trial_dir = tmp_path / "exp" / f"digits_{objective}_{number:03d}"
        trial_dir.mkdir(parents=True)
        (trial_dir / "params.json").write_text(json.dumps({"domain": "digits", "objective": objective, "lr": 1e-3}))
        rows.append(
            {
                "experiment": "exp",
                "domain": "digits",
                "objective": objective,
                "trial": trial_dir.name,
                "trial_dir": str(trial_dir),
                "status": "completed",
            }
        )
    trials = pd.DataFrame(rows)
    best = trials[trials["objective"] != "none"].reset_index(drop=True)
    runs = tmp_path / "seeds" / "seeds_20261206-080000"
    want = {
        seed: {o: _seed_run(runs, f"exp.digits_{o}_{n:03d}", seed) for o, n in (("emix", 1), ("shed", 2))}
        for seed in (1, 2)
    }
    _seed_run(runs, "exp.digits_none_000", 1)  # the baseline is never combined
    _seed_run(runs, "exp.digits_emix_001", 3, final=False)  # cut short: not a seed
    assert seed_encoders(tmp_path / "seeds", trials, best) == {"digits": want}
