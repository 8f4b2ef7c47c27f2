"""Hand-made trial tables and experiment folders (the on-disk layout a search writes), no Ray."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd


def trial(
    domain,
    objective,
    number,
    status="completed",
    val=0.5,
    best_val=None,
    tests=None,
    seed=0,
    experiment="exp",
    **params,
) -> dict:
    row = {
        "experiment": experiment,
        "domain": domain,
        "objective": objective,
        "trial": f"{domain}_{objective}_{number:03d}",
        "iteration": 4,
        "status": status,
        "error": "",
        "checkpoint": f"/ckpt/{domain}_{objective}_{number:03d}/last",
        "trial_dir": f"/x/{number}",
        "transfer/val": val,
        "best_val": val if best_val is None else best_val,
        "seed": seed,
        "best_checkpoint": f"/ckpt/{domain}_{objective}_{number:03d}/best",
        "seconds": 1.0 + number,
    }
    for task, score in (tests or {}).items():
        row[f"test/{task}"] = score
        row[f"val/{task}"] = score + 0.01
    row.update(params)
    return row


def trials_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def write_trial(
    study_dir: Path, name: str, params: dict, results: list[dict], error: str = "", checkpoints: tuple[int, ...] = ()
) -> Path:
    trial_dir = study_dir / name
    trial_dir.mkdir(parents=True)
    (trial_dir / "params.json").write_text(json.dumps(params))
    lines = []
    for i, result in enumerate(results):
        lines.append(
            json.dumps(
                {"training_iteration": i + 1, "checkpoint_dir_name": f"checkpoint_{i:06d}", "lr": 123.0, **result}
            )
        )  # `lr` as Lightning logs it: a metric, not the param
    (trial_dir / "result.json").write_text("\n".join(lines) + ("\n" if lines else ""))
    for index in checkpoints:
        (trial_dir / f"checkpoint_{index:06d}").mkdir()
    if error:
        (trial_dir / "error.txt").write_text(error)
    return trial_dir


def write_journal(exp: Path, trials: dict[str, list[tuple[str, dict, float | None, str]]]) -> None:
    """A real Optuna journal: study name -> [(state, params, value, error attribute)] in trial order."""
    import optuna

    from dabs_lib.experiment import open_storage

    (exp / "optuna.journal").touch()
    storage = open_storage(exp)
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "A new study created" in a test's captured stderr
    try:
        for name, rows in trials.items():
            _add_trials(optuna.create_study(study_name=name, storage=storage, direction="maximize"), rows)
    finally:
        optuna.logging.set_verbosity(verbosity)


def _add_trials(study, rows: list[tuple[str, dict, float | None, str]]) -> None:
    import optuna
    from optuna.distributions import FloatDistribution

    from dabs_lib.experiment import ERROR_ATTR

    for state, params, value, error in rows:
        study.add_trial(
            optuna.trial.create_trial(
                state=optuna.trial.TrialState[state],
                params=params,
                value=value,
                distributions={k: FloatDistribution(1e-5, 1e-2, log=True) for k in params},
                intermediate_values={1: value if value is not None else 0.2} if state != "RUNNING" else {},
                user_attrs={ERROR_ATTR: error} if error else {},
            )
        )


OOM = "RuntimeError: out of memory"


def fake_experiment(root: Path, study_status: str = "finished") -> Path:
    """digits: a `none` baseline and an `emix` study with one trial of every status, in the
    layout of dabs_lib.experiment (manifest, journal, one folder per trial)."""
    from dabs_lib.experiment import Manifest, Study

    exp = root / "fake"
    exp.mkdir(parents=True)
    finished = study_status == "finished"
    studies = (Study("digits", "none", "finished", 1), Study("digits", "emix", study_status, 4))
    manifest = Manifest("search", {"domains": ["digits"]}, studies, "finished" if finished else "running")
    (exp / "search.json").write_text(json.dumps(manifest.to_dict()))
    final = {"final": True, "test/novel": 0.6, "val/novel": 0.7, "test/all": 0.5, "val/all": 0.55, "seconds": 3.0}
    write_trial(
        exp,
        "digits_none_000",
        {"domain": "digits", "objective": "none", "seed": 0, "study": "digits-none"},
        [{"transfer/val": 0.4, "step": 0, **final, "test/novel": 0.3}],
        checkpoints=(0,),
    )
    base = {"domain": "digits", "objective": "emix", "seed": 0, "trial_number": 0, "study": "digits-emix"}
    write_trial(
        exp,
        "digits_emix_000",
        dict(base, lr=1e-4),
        [{"transfer/val": 0.5, "step": 1}, {"transfer/val": 0.6, "step": 2, **final}],
        checkpoints=(1,),
    )
    write_trial(
        exp,
        "digits_emix_001",
        dict(base, lr=1e-3, trial_number=1),
        [{"transfer/val": 0.9, "step": 1}, {"transfer/val": 0.7, "step": 2, **final, "test/novel": 0.65}],
        checkpoints=(0, 1),
    )
    write_trial(exp, "digits_emix_002", dict(base, lr=3e-3, trial_number=2), [{"transfer/val": 0.2, "step": 1}])
    write_trial(
        exp,
        "digits_emix_003",
        dict(base, lr=2e-3, trial_number=3),
        [],
        error=f"Failure # 1 (occurred at 2026-11-22_10-15-00)\nTraceback (most recent call last):\n"
        f'  File "trainable.py", line 1\n{OOM}\n',
    )
    write_journal(
        exp,
        {
            "digits-none": [("COMPLETE", {}, 0.4, "")],
            "digits-emix": [
                ("COMPLETE", {"lr": 1e-4}, 0.6, ""),
                ("COMPLETE", {"lr": 1e-3}, 0.7, ""),
                ("PRUNED" if finished else "RUNNING", {"lr": 3e-3}, None, ""),
                ("FAIL", {"lr": 2e-3}, None, OOM) if finished else ("RUNNING", {"lr": 2e-3}, None, ""),
            ],
        },
    )
    return exp


def png_ok(path: Path) -> np.ndarray:
    """The image matplotlib reads back from a PNG file (asserting the signature first)."""
    import matplotlib.image

    data = Path(path).read_bytes()
    assert len(data) > 0 and data[:8] == b"\x89PNG\r\n\x1a\n", path
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50
    return image
