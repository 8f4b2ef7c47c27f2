"""Writing tables (Markdown, CSV, LaTeX, JSON) and re-runnable configs: the file edge of analysis.

A config is the flat `key: value` mapping `run_search.py pretrain --config FILE` reads:
the trial's params.json minus searcher bookkeeping, with domain, objective and seed always
present, so the file alone reproduces the trial (same seed, same steps, same scores). An
exported config file holds settings only, no path of the machine that ran the search: the
data folder (`data_root`) is named in its header comment and found again where `pretrain`
runs (`--set data_root=...`, else $DABS_DATA_ROOT, else ./data).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import yaml

from dabs_lib.experiment import BOOKKEEPING_PARAMS, study_name
from dabs_lib.invocation import command
from dabs_lib.safe_io import write_json, write_text

FORMATS = ("md", "csv", "tex", "json")
REQUIRED = ("domain", "objective", "seed")
MACHINE_KEYS = ("data_root",)  # where the searching machine kept the data: not a setting, left out of exported files


SCORE_DECIMALS = 4  # Markdown: scores and gains to 4 decimals
LATEX_DECIMALS = 3  # a paper table: 3 decimals (differences below 0.001 are noise at our sizes)


def column_format(values: pd.Series, decimals: int = SCORE_DECIMALS) -> Callable[[Any], str]:
    """One format for a whole numeric column, so its numbers line up: integers as integers,
    values spanning orders of magnitude below 0.01 (lr 3e-05, 1e-3) in scientific notation,
    everything else (scores, gains, seconds) with a fixed number of decimals."""
    data = pd.to_numeric(values, errors="coerce").dropna().astype(float)
    nonzero = data[data != 0].abs()
    largest = float(nonzero.max()) if not nonzero.empty else 0.0
    if data.empty or ((data == data.round()).all() and largest < 1e15):
        spec = ".0f"
    elif largest >= 1e5 or (
        not nonzero.empty and nonzero.min() < 10**-decimals and (data > 0).all() and largest / nonzero.min() >= 10
    ):
        spec = ".2e"
    else:
        spec = f".{decimals}f"
    return lambda value: "" if value is None or pd.isna(value) else format(float(value), spec)


def _formats(table: pd.DataFrame, decimals: int) -> dict[str, Callable[[Any], str]]:
    return {
        c: column_format(table[c], decimals)
        for c in table.columns
        if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
    }


def _cell(value: Any, fmt: Callable[[Any], str] | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if fmt is not None:
        return fmt(value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table: numbers right-aligned with one format per column
    (column_format), empty cells for NaN."""
    header = [str(c).replace("|", "\\|") for c in table.columns]
    formats = _formats(table, SCORE_DECIMALS)
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if c in formats else ":---" for c in table.columns) + "|",
    ]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v, formats.get(c)) for c, v in zip(table.columns, row)) + " |")
    return "\n".join(lines) + "\n"


LATEX_SPECIAL = {
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    """Text for a LaTeX cell. `<` and `>` are not text characters in LaTeX's default font
    encoding (OT1 prints `>` as an inverted question mark): they become symbols."""
    escaped = "".join(LATEX_SPECIAL.get(ch, ch) for ch in str(text)).replace("±", r"$\pm$")
    return escaped.replace(r"\textgreater{}=", r"$\geq$").replace(r"\textless{}=", r"$\leq$")


WRAP_AT = 32  # characters: a text column with longer cells wraps in a paragraph column (fits the page)
WRAP_WIDTH = r"0.35\linewidth"


def _column_spec(values: pd.Series, numeric: bool) -> str:
    if numeric:
        return "r"
    longest = max((len(str(v)) for v in values if isinstance(v, str)), default=0)
    return rf"p{{{WRAP_WIDTH}}}" if longest > WRAP_AT else "l"


NUMBER_TEXT = re.compile(r"-?\d+(\.\d+)?( ± \d+(\.\d+)?)?")  # "0.612" or "0.612 ± 0.010"


def _numeric_text(values: pd.Series) -> bool:
    """Preformatted numbers (score ± interval): right-aligned like numbers."""
    text = [str(v) for v in values if isinstance(v, str) and v]
    return bool(text) and all(NUMBER_TEXT.fullmatch(v) for v in text)


def latex_table(table: pd.DataFrame, caption: str = "", decimals: int = LATEX_DECIMALS) -> str:
    """A booktabs `tabular` (\\toprule, \\midrule, \\bottomrule; needs \\usepackage{booktabs}),
    numbers right-aligned with one format per column; a repeated first-column value is blanked
    so groups read as groups."""
    formats = _formats(table, decimals)
    spec = "".join(_column_spec(table[c], c in formats or _numeric_text(table[c])) for c in table.columns)
    lines = [
        f"% {caption}" if caption else "% generated by dabs-tune",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(latex_escape(c) for c in table.columns) + r" \\",
        r"\midrule",
    ]
    previous = None
    for row in table.itertuples(index=False):
        cells = [
            formats[c](v) if c in formats else latex_escape("" if pd.isna(v) else v) for c, v in zip(table.columns, row)
        ]
        if len(cells) > 1 and row[0] == previous:
            cells[0] = ""
        previous = row[0]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def write_table(
    table: pd.DataFrame,
    folder: str | Path,
    stem: str,
    paper: pd.DataFrame | Callable[[int], pd.DataFrame] | None = None,
    caption: str = "",
) -> dict[str, Path]:
    """`<folder>/<stem>.{md,csv,tex,json}`; returns format -> path. CSV and JSON hold the full
    table at full precision; Markdown and LaTeX show `paper` (the few columns a reader needs)
    when given, else the whole table, with fixed decimals per column. A `paper` that preformats
    numbers is a function of the decimals: Markdown gets SCORE_DECIMALS, LaTeX LATEX_DECIMALS."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def shown(decimals: int) -> pd.DataFrame:
        return table if paper is None else paper(decimals) if callable(paper) else paper

    paths = {fmt: folder / f"{stem}.{fmt}" for fmt in FORMATS}
    write_text(paths["md"], markdown_table(shown(SCORE_DECIMALS)))
    write_text(paths["csv"], table.to_csv(index=False))
    write_text(paths["tex"], latex_table(shown(LATEX_DECIMALS), caption))
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
    """`<folder>/<domain>-<objective>.yaml` for every row of select_best(), without MACHINE_KEYS."""
    from dabs_lib.datasets.source import DATA_ROOT_ENV

    out = {}
    for row in best.itertuples(index=False):
        path = Path(folder) / f"{study_name(row.domain, row.objective)}.yaml"
        config = trial_config(row.trial_dir)
        local = {key: config.pop(key) for key in MACHINE_KEYS if key in config}
        comment = (
            f"best trial {row.trial} of experiment {row.experiment} "
            f"(which={row.which}, validation transfer score {row.selection_score:.4f})\n"
            f"reproduce: {command(f'pretrain --config {path}')}"
        )
        if local.get("data_root"):
            comment += (
                f"\nthe search read its data from {local['data_root']}; pretrain reads them from "
                f"--set data_root=..., else ${DATA_ROOT_ENV}, else ./data"
            )
        out[(row.domain, row.objective)] = write_config(config, path, comment)
    return out
