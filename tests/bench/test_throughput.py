"""bench/throughput.py and bench/probe_share.py run at smoke size on a CPU and write their tables."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str):
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _table(text: str, title: str) -> list[list[str]]:
    """The first markdown table after `title`, as lists of cells."""
    lines = text.split(title, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append([c.strip() for c in line.strip("|").split("|")])
    return table


@pytest.mark.slow
def test_throughput_smoke_writes_every_table(tmp_path):
    out = tmp_path / "throughput.md"
    argv = [
        "--smoke-test",
        "--inputs",
        "2d64,image+caption",
        "--objectives",
        "shed,mae",
        "--precision",
        "fp32,bf16",
        "--flops",
        "--packed",
        "1",
        "--out",
        str(out),
    ]
    assert _load("throughput").main(argv) == 0
    text = out.read_text()
    steps = _table(text, "Training step")
    header, rows = steps[0], steps[2:]
    assert len(rows) == 2 * 2 * 2  # inputs x objectives x precisions
    # like with like: each row's reference ran at that row's precision
    assert [row[header.index("reference")] for row in rows] == [row[header.index("ours")] for row in rows]
    ratio, ours = header.index("ratio (median of pairs)"), header.index("ours samples/s")
    assert all(float(row[ratio]) > 0 and float(row[ours]) > 0 for row in rows)
    assert float(rows[0][header.index("GFLOP/step")]) > 0
    featurize = _table(text, "Featurization")
    assert [row[0] for row in featurize[2:]] == ["2d64", "image+caption"]
    probe = _table(text, "Probe L2-path fit")
    assert len(probe) == 2 + 2 and all(float(row[-1]) > 0 for row in probe[2:])
    packed = _table(text, "Trials packed")
    assert packed[2][0] == "1" and float(packed[2][4]) > 0
    assert f"Command: `python bench/throughput.py {' '.join(argv)}`" in text


@pytest.mark.slow
def test_throughput_default_inputs_are_every_kind_at_64_and_256_tokens(tmp_path):
    out = tmp_path / "throughput.md"
    module = _load("throughput")
    assert module.main(["--smoke-test", "--objectives", "shed", "--sections", "step", "--out", str(out)]) == 0
    rows = _table(out.read_text(), "Training step")[2:]
    kinds = {row[0] for row in rows}
    assert kinds == {f"{kind}-{n}" for kind in ("2d", "1d", "tokens", "tabular") for n in (64, 256)}
    assert len(rows) == 8 * 2  # fp32 and bf16 by default


@pytest.mark.slow
def test_probe_share_smoke_prints_its_table(capsys):
    assert (
        _load("probe_share").main(
            ["--smoke-test", "--domains", "digits", "--large-rows", "0", "--search-rows", "200,50"]
        )
        == 0
    )
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("| domain")).strip("|").split("|")
    rows = [
        line.strip("|").split("|")
        for line in out.splitlines()
        if line.startswith("| ") and not line.startswith("| domain")
    ]

    def cell(row, name):
        return row[header.index(f" {name} ")].strip()

    digits = next(row for row in rows if cell(row, "domain") == "digits")
    assert 0 < float(cell(digits, "probe share %")) < 100
    large = [row for row in rows if cell(row, "domain").startswith("cifar10_small shape")]
    assert [int(cell(row, "probe rows (train)")) for row in large] == [200, 50]  # one row per search_rows
    assert all(0 < float(cell(row, "probe share %")) < 100 for row in large)
