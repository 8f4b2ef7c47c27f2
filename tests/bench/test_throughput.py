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


def test_dabs_code_puts_a_checkouts_own_transformer_class_in_the_reference(tmp_path, monkeypatch):
    """--dabs-code: the reference's blocks are the checkout's `src.models.pytorch.transformer.Transformer`
    (a stand-in of DABS's signature here: tests never fetch DABS), built at the model's size."""
    reference = _load("reference_dabs")
    with pytest.raises(SystemExit, match="must be a checkout of github.com/alextamkin/dabs"):
        reference.dabs_trunk(str(tmp_path / "nowhere"), 32, 2, 2, 16, 64, 0.1)
    package = tmp_path / "dabs" / "src" / "models" / "pytorch"
    package.mkdir(parents=True)
    for folder in (package, package.parent, package.parent.parent):
        (folder / "__init__.py").write_text("")
    (package / "transformer.py").write_text(
        "import torch\n\n"
        "class Transformer(torch.nn.Module):\n"
        "    def __init__(self, dim, depth, heads, dim_head, mlp_dim, dropout=0.0):\n"
        "        super().__init__()\n"
        "        self.sizes = (dim, depth, heads, dim_head, mlp_dim, dropout)\n"
        "        self.layers = torch.nn.Sequential(*(torch.nn.Linear(dim, dim) for _ in range(depth)))\n\n"
        "    def forward(self, x):\n"
        "        return self.layers(x)\n"
    )
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in [m for m in sys.modules if m == "src" or m.startswith("src.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "einops", sys.modules.get("einops") or type(sys)("einops"))
    sys.path.insert(0, str(BENCH))
    steps = importlib.import_module("bench_steps")
    from dabs_lib.model_config import ModelConfig

    model = ModelConfig(embed_dim=32, depth=2, num_heads=2, head_dim=16, mlp_dim=64, out_dim=16)
    specs, _ = steps.SMOKE_INPUTS["2d-64"]
    runner = steps.StepRunner("shed", specs, model, 4, steps.torch.device("cpu"), dabs_code=str(tmp_path / "dabs"))
    blocks = runner.ref.encoder.blocks
    assert type(blocks).__module__ == "src.models.pytorch.transformer" and blocks.sizes == (32, 2, 2, 16, 64, 0.1)
    assert all(t > 0 for t in runner.rounds(1)[0])  # ours and the reference both step
    for name in [m for m in sys.modules if m == "src" or m.startswith("src.")]:
        del sys.modules[name]
