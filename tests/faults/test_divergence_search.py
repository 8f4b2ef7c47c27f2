"""Divergence in a real search: a huge learning rate really produces NaN losses on digits.

The search space offers lr 1e-4 (the DABS default, trial 000) or 1e6; every trial with
1e6 must stop at its first NaN loss with the reason, be PRUNED in the Optuna study with the
reason as its `diverged` user attribute, and show in the report's error lines, while the
others complete. No mock: real Ray, Optuna, Lightning.
"""

from __future__ import annotations

import json
import pickle

import pytest

import run_search
from dabs_lib.divergence import DIVERGED_KEY, Diverged, NonFiniteFeatures

SPACE = """doc: the default lr, or one that diverges
search:
  lr: {type: choice, choices: [0.0001, 1000000.0], default: 0.0001, doc: AdamW peak learning rate}
"""


def test_divergence_errors_survive_pickling():
    for error in (Diverged.at_step(7, "loss", "nan"), NonFiniteFeatures("features of x are NaN", 3)):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and copy.reason == error.reason and copy.step == error.step


def test_a_huge_learning_rate_stops_pretraining_at_the_first_nan_loss(tmp_path):
    from dabs_lib.config import config_from_dict
    from dabs_lib.pretrain import pretrain

    config = config_from_dict({"domain": "digits", "objective": "shed", "lr": 1e6, "max_steps": 20, "smoke_test": True})
    with pytest.raises(Diverged) as error:
        pretrain(config, output_dir=tmp_path, logger=False)
    assert error.value.reason.startswith("diverged at step ") and error.value.reason.endswith("loss=nan")
    assert 0 < error.value.step < 20
    assert not (tmp_path / "encoder.pt").exists(), "a diverged run saves no encoder"


def test_a_probe_never_scores_non_finite_features():
    import torch

    from dabs_lib.config import config_from_dict
    from dabs_lib.domains import get_domain
    from dabs_lib.initial import initial_encoder
    from dabs_lib.transfer import probe_val

    config = config_from_dict({"domain": "digits", "objective": "shed", "smoke_test": True})
    domain = get_domain("digits", smoke=True)
    encoder = initial_encoder(config, domain)
    with torch.no_grad():
        next(encoder.parameters()).fill_(float("nan"))  # what a diverged step leaves
    with pytest.raises(NonFiniteFeatures, match="must be finite.*no score is reported"):
        probe_val(encoder, domain.tasks[domain.default_task])


def test_pretrain_command_says_diverged_in_one_line(tmp_path, capsys):
    code = run_search.main(
        [
            "pretrain",
            "--domain",
            "digits",
            "--objective",
            "shed",
            "--set",
            "lr=1e6",
            "--smoke-test",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = [line for line in capsys.readouterr().err.strip().splitlines() if "error" in line]
    assert code == 1 and len(err) == 1 and "diverged at step" in err[0] and "lower the learning rate" in err[0]


@pytest.mark.slow
def test_diverged_trials_are_recorded_with_their_reason_and_the_search_goes_on(tmp_path, capsys):
    space = tmp_path / "lr.yaml"
    space.write_text(SPACE)
    code = run_search.main(
        [
            "search",
            "--domain",
            "digits",
            "--objective",
            "shed",
            "--num-samples",
            "4",
            "--sampler",
            "random",
            "--seed",
            "1",
            "--scheduler",
            "fifo",
            "--space",
            str(space),
            "--set",
            "max_steps=4",
            "--set",
            "eval_every=2",
            "--set",
            "warmup_steps=0",  # a warmup would keep the first steps' lr small enough not to diverge
            "--no-baseline",
            "--smoke-test",
            "--storage-path",
            str(tmp_path / "runs"),
            "--name",
            "div",
            "--num-cpus",
            "2",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    from dabs_lib.experiment import load_study

    exp = tmp_path / "runs" / "div"
    trials = {json.loads((d / "params.json").read_text())["lr"]: d for d in exp.glob("digits_shed_*")}
    assert set(trials) == {1e-4, 1e6}, "the seed must draw both learning rates"
    study = load_study(exp, "digits", "shed")  # the real Optuna storage, opened by Optuna
    for trial in study.trials:
        if trial.params["lr"] == 1e6:
            assert trial.state.name == "PRUNED"
            assert trial.user_attrs[DIVERGED_KEY].startswith("diverged at step "), trial
            assert "loss=nan" in trial.user_attrs[DIVERGED_KEY]
        else:
            assert trial.state.name == "COMPLETE" and DIVERGED_KEY not in trial.user_attrs
    diverged_dir = trials[1e6]
    last = [json.loads(line) for line in (diverged_dir / "result.json").read_text().splitlines()][-1]
    assert last[DIVERGED_KEY].startswith("diverged at step") and not last.get("final")
    assert "test/novel" not in last, "a diverged encoder never reports a test score"
    assert "stopped: diverged at step" in out
    report = tmp_path / "report"
    assert run_search.main(["export", str(tmp_path / "runs" / "div"), "--out", str(report)]) == 0
    code = run_search.main(["analyze", str(tmp_path / "runs" / "div"), "--out", str(report)])
    assert code == 0
    readme = (report / "README.md").read_text()
    assert "pruned: digits_shed_" in readme and "diverged at step" in readme
