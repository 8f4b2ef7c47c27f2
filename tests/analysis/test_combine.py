"""Combined encoders: concatenation, probing (a single encoder repeats evaluate_transfer), the tables."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from analysis.combine import (
    UNTRAINED,
    as_role_scores,
    combinations,
    combined_scores,
    combined_vs_single,
    concat_features,
    untrained_twins,
    width_sentences,
)
from analysis.trial_measures import RISK_MEASURES, measure_trial
from dabs_lib.checkpoints import save_encoder
from dabs_lib.domains import get_domain
from dabs_lib.encoder import Encoder
from dabs_lib.model_config import ModelConfig
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
    table = combined_scores(paths, domain, FAST, cache_dir=tmp_path / "cache", width_control=False)
    assert set(table["combination"]) == {"emix", "shed", "emix+shed"}
    assert set(table["task"]) == set(domain.tasks)
    pair = table[table["combination"] == "emix+shed"]
    assert (pair["dim"] == 2 * TINY.embed_dim).all() and (pair["members"] == 2).all()
    for row in table[table["members"] == 1].itertuples():
        alone = evaluate_transfer(paths[row.combination], domain.tasks[row.task], FAST, cache_dir=None)
        assert row.test == pytest.approx(alone.score, abs=1e-6)
    with pytest.raises(ValueError, match="at least one encoder"):
        combined_scores({}, domain, FAST)


def test_untrained_twins_are_the_members_architectures_at_distinct_seeded_inits():
    specs = get_domain("digits", smoke=True).specs
    trained = {"emix": tiny(specs, 0), "shed": tiny(specs, 1)}
    twins = untrained_twins(trained, control_seed=0)
    assert list(twins) == [UNTRAINED + "emix", UNTRAINED + "shed"]
    again, other_seed = untrained_twins(trained, control_seed=0), untrained_twins(trained, control_seed=1)
    for name, twin in twins.items():
        member = trained[name.removeprefix(UNTRAINED)]
        assert twin.config == member.config and twin.specs == member.specs and not twin.training
        state, same = twin.state_dict(), again[name].state_dict()
        assert all(torch.equal(state[k], same[k]) for k in state)  # seeded: the same init every time
        assert not all(torch.equal(state[k], member.state_dict()[k]) for k in state)
        assert not all(torch.equal(state[k], other_seed[name].state_dict()[k]) for k in state)
    a, b = (t.state_dict() for t in twins.values())
    assert not all(torch.equal(a[k], b[k]) for k in a)  # two different untrained maps, not one twice


def test_width_control_rows_probe_the_untrained_twins(tmp_path):
    domain = get_domain("digits", smoke=True)
    encoders = {"emix": tiny(domain.specs, 0), "shed": tiny(domain.specs, 1)}
    table = combined_scores(encoders, domain, FAST, cache_dir=None, control_seed=3)
    control = UNTRAINED + "emix+" + UNTRAINED + "shed"
    assert set(table["combination"]) == {"emix", "shed", "emix+shed", UNTRAINED + "emix", UNTRAINED + "shed", control}
    assert (table[table["combination"] == control]["dim"] == 2 * TINY.embed_dim).all()
    twin = untrained_twins(encoders, control_seed=3)[UNTRAINED + "shed"]
    for row in table[table["combination"] == UNTRAINED + "shed"].itertuples():
        alone = evaluate_transfer(twin, domain.tasks[row.task], FAST, cache_dir=None)
        assert row.test == pytest.approx(alone.score, abs=1e-6)
    alone = combined_scores({"emix": encoders["emix"]}, domain, FAST, cache_dir=None)
    assert set(alone["combination"]) == {"emix"}  # one encoder: nothing to combine, no control


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


def test_gain_over_width_pairs_the_combinations_gain_with_its_controls_by_seed():
    from scipy import stats

    u = UNTRAINED
    long = _long(
        {
            "a": [0.5, 0.6, 0.7],
            "b": [0.6, 0.7, 0.8],
            "a+b": [0.8, 0.85, 0.95],
            u + "a": [0.3, 0.3, 0.4],
            u + "b": [0.35, 0.3, 0.3],
            f"{u}a+{u}b": [0.45, 0.35, 0.5],
        }
    )
    versus = combined_vs_single(long).set_index("combination")
    row = versus.loc["a+b"]
    gains = np.array([0.2, 0.15, 0.15])  # a+b - b
    width = np.array([0.15, 0.05, 0.1])  # the control - its best member (untrained:a, mean 0.333 > 0.317)
    assert row["gain"] == pytest.approx(gains.mean()) and row["width_gain"] == pytest.approx(width.mean())
    over = gains - width
    half = stats.t.ppf(0.975, 2) * over.std(ddof=1) / np.sqrt(3)
    assert row["gain_over_width"] == pytest.approx(over.mean()) and row["gain_over_width_ci95"] == pytest.approx(half)
    assert bool(row["beyond_width"]) == (over.mean() > half)
    control = versus.loc[f"{u}a+{u}b"]
    assert control["best_single"] == u + "a" and np.isnan(control["width_gain"]) and not control["beyond_width"]
    sentence = width_sentences(versus.reset_index())
    assert len(sentence) == 1 and "a+b gains +0.167 over its best member (b)" in sentence[0]
    assert f"untrained gain {width.mean():+.3f}" in sentence[0] and f"beyond width: {over.mean():+.3f} ±" in sentence[0]


def test_one_run_each_has_a_width_gain_but_no_interval():
    u = UNTRAINED
    long = _long({"a": [0.5], "b": [0.6], "a+b": [0.7], u + "a": [0.3], u + "b": [0.3], f"{u}a+{u}b": [0.5]})
    long["seed"] = np.nan  # the trials' own runs
    row = combined_vs_single(long).set_index("combination").loc["a+b"]
    assert row["gain"] == pytest.approx(0.1) and row["width_gain"] == pytest.approx(0.2)
    assert row["gain_over_width"] == pytest.approx(-0.1) and np.isnan(row["gain_over_width_ci95"])
    assert "no interval" in width_sentences(combined_vs_single(long))[0]


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
