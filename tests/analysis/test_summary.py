"""The domain x objective table a search prints at its end, and its saved formats."""

from __future__ import annotations

import json

import pandas as pd

from analysis import tables
from analysis.exports import write_table
from tests.analysis.fake import trial, trials_frame


def _transfer() -> pd.DataFrame:
    rows = [
        trial("digits", "none", 0, val=0.4, tests={"novel": 0.3, "all": 0.2}),
        trial("tabular", "none", 0, val=0.4, tests={"diagnosis": 0.5}),
    ]
    for objective, score in (("shed", 0.61), ("emix", 0.55)):
        rows.append(trial("digits", objective, 0, val=score, tests={"novel": score, "all": score - 0.1}))
    rows.append(trial("tabular", "emix", 0, val=0.9, tests={"diagnosis": 0.75}))
    trials = trials_frame(rows)
    return tables.transfer_table(tables.summarize_scores(tables.role_scores(trials, tables.select_best(trials))))


def test_summary_is_domain_and_task_by_objective_with_random_init_first(tmp_path):
    table = tables.summary_table(_transfer())
    assert list(table.columns[:3]) == ["domain", "task", "random init"]
    assert set(table.columns[3:]) == {"emix", "shed"}
    row = table[(table["domain"] == "digits") & (table["task"] == "novel")].iloc[0]
    assert (row["random init"], row["shed"], row["emix"]) == (0.3, 0.61, 0.55)
    tabular = table[table["domain"] == "tabular"].iloc[0]
    assert tabular["emix"] == 0.75 and pd.isna(tabular["shed"])
    paths = write_table(table, tmp_path, "summary")
    assert sorted(paths) == ["csv", "json", "md", "tex"]
    assert json.loads(paths["json"].read_text())[0]["domain"] == table["domain"].iloc[0]
    assert "\\toprule" in paths["tex"].read_text()


def test_empty_transfer_gives_an_empty_summary():
    assert tables.summary_table(pd.DataFrame()).empty
