"""One name per table (single runs vs. re-run seeds), the decimals the docs promise, LaTeX that typesets."""

from __future__ import annotations

import pandas as pd

from analysis import exports, tables
from analysis.readme import compact_transfer
from tests.analysis import test_plots


def _transfer(seeds: int) -> pd.DataFrame:
    trials = test_plots._trials()
    transfer = tables.transfer_table(tables.summarize_scores(tables.role_scores(trials, tables.select_best(trials))))
    if seeds > 1:
        transfer = transfer.assign(best_ci95=0.01234, baseline_ci95=0.02, n_seeds=seeds, baseline_n_seeds=seeds)
    return transfer


def test_the_seeds_table_carries_intervals_and_seed_counts_under_its_own_name(tmp_path):
    assert tables.SEEDS_TABLE != tables.SINGLE_RUN_TABLE
    seeds = tables.seeds_table(_transfer(3))
    assert {"random init", "random init ci95", "random init n_seeds", "emix", "emix ci95", "emix n_seeds"} <= set(seeds)
    paths = exports.write_table(
        seeds, tmp_path, tables.SEEDS_TABLE, paper=lambda decimals: tables.seeds_paper(seeds, decimals)
    )
    markdown = paths["md"].read_text()
    assert " ± 0.0123 (n=3) |" in markdown, markdown
    assert " ± 0.012 (n=3) " in paths["tex"].read_text().replace(r"$\pm$", "±")
    assert pd.read_csv(paths["csv"])["emix ci95"].iloc[0] == 0.01234  # full precision in the data files


def test_transfer_markdown_has_four_decimals_and_latex_three(tmp_path):
    transfer = _transfer(1)
    paths = exports.write_table(transfer, tmp_path, "transfer", paper=lambda d: compact_transfer(transfer, d))
    best = f"{transfer['best'].iloc[0]:.{exports.SCORE_DECIMALS}f}"
    assert exports.SCORE_DECIMALS == 4 and best in paths["md"].read_text()
    assert f"{transfer['best'].iloc[0]:.{exports.LATEX_DECIMALS}f} " in paths["tex"].read_text()


def test_latex_typesets_comparisons_and_wraps_long_text():
    assert exports.latex_escape("needs >= 10 trials, a < b") == r"needs $\geq$ 10 trials, a \textless{} b"
    table = pd.DataFrame(
        {
            "domain": ["digits"],
            "skipped": ["needs >= 10 completed trials for a ranking that is not noise, has 4"],
            "importance": [0.5],
        }
    )
    text = exports.latex_table(table)
    assert rf"\begin{{tabular}}{{lp{{{exports.WRAP_WIDTH}}}r}}" in text and ">" not in text.replace(r"\\", "")
