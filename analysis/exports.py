"""Writing tables (Markdown, CSV, LaTeX, JSON) and re-runnable configs: the file edge of analysis.

A config is the flat `key: value` mapping `run_search.py pretrain --config FILE` reads:
the trial's params.json minus searcher bookkeeping, with domain, objective and seed always
present, so the file alone reproduces the trial (same seed, same steps, same scores).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from dabs_lib.experiment import STUDY, TRIAL_NUMBER, study_name
from dabs_lib.safe_io import write_json, write_text

FORMATS = ("md", "csv", "tex", "json")
BOOKKEEPING_PARAMS = (TRIAL_NUMBER, STUDY)  # set by the searcher to route and name the trial; not settings
REQUIRED = ("domain", "objective", "seed")


def format_float(value: float) -> str:
    """4 decimals for scores and gains; 3 significant digits for tiny or huge values (lr 3e-05)."""
    if value == 0 or 1e-2 <= abs(value) < 1e5:
        return f"{value:.4f}"
    return f"{value:.3g}"


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return format_float(value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (numbers right-aligned, empty cells for NaN)."""
    header = [str(c).replace("|", "\\|") for c in table.columns]
    numeric = [pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
               for c in table.columns]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if n else ":---" for n in numeric) + "|"]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def write_table(table: pd.DataFrame, folder: str | Path, stem: str) -> dict[str, Path]:
    """`<folder>/<stem>.{md,csv,tex,json}`; returns format -> path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {fmt: folder / f"{stem}.{fmt}" for fmt in FORMATS}
    write_text(paths["md"], markdown_table(table))
    write_text(paths["csv"], table.to_csv(index=False))
    write_text(paths["tex"], table.to_latex(index=False, float_format=format_float, na_rep="--", escape=True))
    write_json(paths["json"], json_records(table), allow_nan=False)
    return paths


def json_records(table: pd.DataFrame) -> list[dict]:
    """Rows as dicts with full float precision (pandas' to_json rounds to 15 digits), NaN -> null."""
    def plain(value: Any) -> Any:
        if hasattr(value, "item"):
            value = value.item()  # numpy scalar -> Python
        return None if isinstance(value, float) and math.isnan(value) else value
    return [{str(k): plain(v) for k, v in row.items()} for row in table.to_dict(orient="records")]


def trial_config(trial_dir: str | Path) -> dict[str, Any]:
    """The re-runnable flat config of a trial, from its params.json (types as the trial saw them)."""
    from dabs_lib.config import PretrainConfig

    params = json.loads((Path(trial_dir) / "params.json").read_text())
    config = {k: v for k, v in params.items() if k not in BOOKKEEPING_PARAMS and not isinstance(v, dict)}
    for key in REQUIRED:
        config.setdefault(key, getattr(PretrainConfig, key))
    return dict(sorted(config.items()))


def write_config(config: dict[str, Any], path: str | Path, comment: str = "") -> Path:
    """YAML with a comment header (what it is, how to re-run it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    write_text(path, header + yaml.safe_dump(config, sort_keys=False, default_flow_style=False))
    return path


def write_best_configs(best: pd.DataFrame, folder: str | Path) -> dict[tuple[str, str], Path]:
    """`<folder>/<domain>-<objective>.yaml` for every row of select_best()."""
    out = {}
    for row in best.itertuples(index=False):
        path = Path(folder) / f"{study_name(row.domain, row.objective)}.yaml"
        comment = (f"best trial {row.trial} of experiment {row.experiment} "
                   f"(which={row.which}, validation transfer score {row.selection_score:.4f})\n"
                   f"reproduce: python run_search.py pretrain --config {path}")
        out[(row.domain, row.objective)] = write_config(trial_config(row.trial_dir), path, comment)
    return out
