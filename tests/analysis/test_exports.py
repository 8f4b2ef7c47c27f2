"""analysis.exports: Markdown by hand, every format parses back, configs are re-runnable YAML."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.exports import FORMATS, markdown_table, trial_config, write_config, write_table


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "domain": ["digits", "te|xt"],
            "test/novel": [0.5942028985507246, np.nan],
            "lr": [3.2e-5, 0.25],
            "n_seeds": [1, 3],
            "average": [False, True],
        }
    )


def test_markdown_table_shape_alignment_and_cells():
    lines = markdown_table(_table()).splitlines()
    assert lines[0] == "| domain | test/novel | lr | n_seeds | average |"
    assert lines[1] == "|:---|---:|---:|---:|:---|"
    # one format per column: lr spans decades below 0.01, so the whole column is scientific
    assert lines[2] == "| digits | 0.5942 | 3.20e-05 | 1 | False |"
    assert lines[3] == "| te\\|xt |  | 2.50e-01 | 3 | True |"  # pipe escaped, NaN empty
    assert len(lines) == 4


def test_every_format_is_written_and_parses_back(tmp_path):
    table = _table()
    paths = write_table(table, tmp_path / "tables", "best")
    assert set(paths) == set(FORMATS) and all(p.is_file() and p.stat().st_size > 0 for p in paths.values())
    pd.testing.assert_frame_equal(pd.read_csv(paths["csv"]), table)
    records = json.loads(paths["json"].read_text())
    assert records[0]["test/novel"] == 0.5942028985507246  # full precision
    assert records[1]["test/novel"] is None and records[1]["average"] is True
    tex = paths["tex"].read_text()
    assert "\\begin{tabular}{lrrrl}" in tex and "test/novel" in tex and "0.594 " in tex


def test_trial_config_drops_bookkeeping_and_names_domain_objective_seed(tmp_path):
    (tmp_path / "params.json").write_text(
        json.dumps(
            {"domain": "digits", "objective": "emix", "lr": 1e-4, "batch_size": 64, "trial_number": 7, "eval_every": 1}
        )
    )
    config = trial_config(tmp_path)
    assert "trial_number" not in config
    assert config["seed"] == 0 and config["domain"] == "digits" and config["objective"] == "emix"
    assert isinstance(config["batch_size"], int) and config["lr"] == 1e-4
    path = write_config(config, tmp_path / "configs" / "digits-emix.yaml", "best trial\nreproduce: ...")
    text = path.read_text()
    assert text.startswith("# best trial\n# reproduce: ...\n")
    assert yaml.safe_load(text) == config


def test_config_is_accepted_by_the_typed_config(tmp_path):
    from dabs_lib.config import config_from_dict
    from dabs_lib.experiment import TRIAL_KEYS

    (tmp_path / "params.json").write_text(
        json.dumps({"objective": "emix", "lr": 3e-4, "temperature": 0.1, "eval_every": 2, "trial_number": 1})
    )
    config = trial_config(tmp_path)
    typed = config_from_dict({k: v for k, v in config.items() if k not in TRIAL_KEYS})
    assert typed.lr == pytest.approx(3e-4) and typed.objective_config.temperature == pytest.approx(0.1)


def test_markdown_uses_fixed_decimals_per_column():
    table = pd.DataFrame({"task": ["a", "b", "c"], "gain": [0.00186, 0.0223, -0.1], "score": [0.5, 0.61234, 1.0]})
    rows = [line.split(" | ") for line in markdown_table(table).splitlines()[2:]]
    assert [r[1] for r in rows] == ["0.0019", "0.0223", "-0.1000"]
    assert [r[2].rstrip(" |") for r in rows] == ["0.5000", "0.6123", "1.0000"]


def test_latex_is_booktabs_with_one_column_per_field_and_fixed_decimals():
    from analysis.exports import latex_table

    table = pd.DataFrame(
        {
            "domain": ["digits", "digits", "te_xt"],
            "objective": ["emix", "shed", "mae"],
            "best": ["0.612 ± 0.010", "0.5", "0.7"],
            "gain": [0.00186, 0.0223, np.nan],
        }
    )
    tex = latex_table(table).splitlines()
    assert tex[1] == "\\begin{tabular}{llrr}"  # score ± interval right-aligned like numbers
    assert [line for line in tex if line in ("\\toprule", "\\midrule", "\\bottomrule")] == [
        "\\toprule",
        "\\midrule",
        "\\bottomrule",
    ]
    body = tex[tex.index("\\midrule") + 1 : tex.index("\\bottomrule")]
    assert all(line.count(" & ") == 3 and line.endswith(" \\\\") for line in body)
    assert body[0] == "digits & emix & 0.612 $\\pm$ 0.010 & 0.002 \\\\"
    assert body[1].startswith(" & shed")  # the repeated domain is blanked
    assert body[2] == "te\\_xt & mae & 0.7 &  \\\\"
