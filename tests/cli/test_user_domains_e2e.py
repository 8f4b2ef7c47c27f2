"""User domains end to end with real Ray: one search over a domain per input kind plus a multi-input
domain (files the tests write in each format), then analyze; and the README's worked example, run as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import run_search
from tests.dabs_lib.userdomain import files

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_one_search_over_every_input_kind_then_analyze(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DABS_DATA_ROOT", str(tmp_path / "root"))
    paths = {kind: files.write(kind, tmp_path / kind) for kind in sorted(files.WRITERS)}
    code = run_search.main(
        [
            "search",
            "--domain",
            ",".join(str(p) for p in paths.values()),
            "--objective",
            "mae",
            "--num-samples",
            "1",
            "--no-baseline",
            "--smoke-test",
            "--num-cpus",
            "2",
            "--storage-path",
            str(tmp_path / "runs"),
            "--name",
            "mine",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]
    names = ["captioned", "measurements", "motion", "pets", "reviews", "scans", "tones"]
    request = json.loads((tmp_path / "runs/mine/search.json").read_text())["request"]
    assert sorted(request["domain_files"]) == names
    assert request["domain_files"]["pets"] == str(paths["image"])
    for name in names:  # a finished trial per domain, its score in the summary table
        assert re.search(rf"^\s*{name}\s+\S+\s+NaN\s+[01]\.\d{{4}}$", out, re.MULTILINE), out[
            -3000:
        ]  # no baseline: NaN
    code = run_search.main(["analyze", str(tmp_path / "runs/mine"), "--out", str(tmp_path / "report")])
    assert code == 0
    table = (tmp_path / "report/README.md").read_text()
    assert all(name in table for name in names)
    _export_and_featurize_each(tmp_path, paths, capsys)


def _export_and_featurize_each(tmp_path: Path, paths: dict[str, Path], capsys) -> None:
    """The encoder each study found, taken away: export-model writes a folder per study, and each
    featurizes its own domain's test split from the domain file (a text domain through the
    tokenizer copied into its model folder)."""
    import numpy as np

    from cli.feature_files import read_features
    from dabs_lib.model_folder import CONFIG
    from dabs_lib.userdomain import load_domain_file

    code = run_search.main(["export-model", str(tmp_path / "runs/mine"), "--out", str(tmp_path / "models")])
    assert code == 0, capsys.readouterr().err[-2000:]
    capsys.readouterr()
    for kind, path in paths.items():
        name = load_domain_file(path).name
        model = tmp_path / "models/mine" / f"{name}-mae"
        config = json.loads((model / CONFIG).read_text())
        assert config["domain"] == name and "preprocessing" in config["data"], (kind, sorted(config["data"]))
        out = tmp_path / f"{name}.npz"
        code = run_search.main(
            ["featurize", str(model), "--domain", str(path), "--split", "test", "--out", str(out), "--device", "cpu"]
        )
        assert code == 0, (kind, capsys.readouterr().err[-2000:])
        features, labels, _ = read_features(out)
        assert len(labels) == len(features)
        assert features.ndim == 2 and len(features) > 0 and np.isfinite(features).all(), kind


def _readme_block(heading: str = "Your own domain", language: str = "bash") -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1, f"the section holds one {language} block"
    return blocks[0]


def _readme_example() -> str:
    return _readme_block()


@pytest.mark.slow
def test_readme_worked_example_runs_as_written(tmp_path):
    env = dict(
        os.environ,
        DABS_DATA_ROOT=str(tmp_path / "data"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    done = subprocess.run(
        ["bash", "-e", "-c", _readme_example()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "domain shapes (shapes/shapes.yaml): ok" in done.stdout
    assert "task shape: multiclass, metric accuracy, 2 output(s); labels: round=12, square=12" in done.stdout
    assert (tmp_path / "runs/shapes_demo/search.json").is_file()
    assert "report: " in done.stdout and (tmp_path / "reports/shapes_demo/README.md").is_file()
    # then the README's "Use the encoder you found", on the search it just ran
    python = _readme_block("Use the encoder you found", "python") + "print(featurize.config['name'])\n"
    script = _readme_block("Use the encoder you found") + f"python - <<'PYEOF'\n{python}PYEOF\n"
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (tmp_path / "models/shapes_demo/shapes-mae/model.safetensors").is_file()
    assert (tmp_path / "shapes.parquet").is_file() and "shapes-mae" in done.stdout
