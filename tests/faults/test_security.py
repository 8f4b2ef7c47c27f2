"""Safe by default, checked on the source: torch.load(weights_only=True), yaml.safe_load, no
pickle of user files except the documented opt-ins; analyze/export never unpickle anything."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

import run_search
from tests.analysis.fake import fake_experiment

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dabs_lib", "trainables", "analysis", "cli", "search_spaces", "bench", "run_search.py")
# Unpickling allowed only here, each documented: a restricted Unpickler that admits numpy
# arrays only (CIFAR batches), wm811k's pandas pickle behind DABS_TUNE_TRUST_PICKLES=1, and the
# searcher's own state, which only `resume` reads (README: resume only experiments you trust).
PICKLE_ALLOWED = {"dabs_lib/datasets/pickles.py", "dabs_lib/datasets/wm811k.py", "trainables/optuna_search.py"}


def _sources() -> list[Path]:
    files = []
    for name in PACKAGES:
        path = ROOT / name
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return files


def _calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            yield (owner.id if isinstance(owner, ast.Name) else ""), node.func.attr, node


def _keyword(node: ast.Call, name: str):
    for kw in node.keywords:
        if kw.arg == name:
            return kw.value.value if isinstance(kw.value, ast.Constant) else "<not a constant>"
    return None


def _loader(node: ast.Call) -> str:
    """The `Loader=yaml.X` keyword of a yaml.load call: 'X', or '' when it is anything else."""
    for kw in node.keywords:
        if kw.arg == "Loader" and isinstance(kw.value, ast.Attribute) and isinstance(kw.value.value, ast.Name):
            return kw.value.attr if kw.value.value.id == "yaml" else ""
    return ""


def test_the_scan_sees_the_whole_code_base():
    names = {str(p.relative_to(ROOT)) for p in _sources()}
    assert "dabs_lib/checkpoints.py" in names and "analysis/results.py" in names and len(names) > 80


def test_every_torch_load_is_weights_only():
    found = []
    for path in _sources():
        for owner, attr, node in _calls(path):
            if owner == "torch" and attr == "load":
                found.append(path)
                assert _keyword(node, "weights_only") is True, (
                    f"{path}:{node.lineno}: torch.load without weights_only=True"
                )
    assert found, "the scan must find dabs_lib.checkpoints' torch.load"


def test_every_yaml_read_is_safe_load():
    for path in _sources():
        for owner, attr, node in _calls(path):
            if owner == "yaml":
                safe_loader = attr == "load" and _loader(node) in ("SafeLoader", "CSafeLoader")
                assert safe_loader or attr in ("safe_load", "safe_dump", "YAMLError") or attr.startswith("safe_"), (
                    f"{path}:{node.lineno}: yaml.{attr} (only yaml.safe_load / safe_dump, or yaml.load with "
                    "Loader=yaml.SafeLoader / yaml.CSafeLoader, are allowed)"
                )


def test_no_unpickling_outside_the_documented_opt_ins():
    for path in _sources():
        rel = str(path.relative_to(ROOT))
        for owner, attr, node in _calls(path):
            unpickles = (
                owner in ("pickle", "cloudpickle", "dill", "joblib")
                and attr in ("load", "loads", "Unpickler")
                or attr == "read_pickle"
                or (attr == "load" and _keyword(node, "allow_pickle") not in (None, False))
            )
            assert not unpickles or rel in PICKLE_ALLOWED, f"{rel}:{node.lineno}: {owner}.{attr} unpickles"
        if rel not in PICKLE_ALLOWED:
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    bases = [ast.unparse(b) for b in node.bases]
                    assert "pickle.Unpickler" not in bases, f"{rel}: a custom Unpickler"


class _Bomb:
    """Unpickling this creates the file `marker`: proof that a command ran code from a pickle."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("command", ["export", "analyze"])
def test_analyze_and_export_never_unpickle(command, tmp_path, capsys):
    exp = fake_experiment(tmp_path)
    marker = tmp_path / "code-ran"
    bomb = pickle.dumps(_Bomb(marker))
    assert not marker.exists()
    # every pickle a Tune experiment holds, under the names Tune gives them
    for rel in (
        "tuner.pkl",
        "searcher-state-00000.pkl",
        "trainable.pkl",
        "digits_emix_003/error.pkl",
        "digits_emix_001/checkpoint_000001/data.pkl",
        "digits_emix_001/params.pkl",
    ):
        (exp / rel).parent.mkdir(parents=True, exist_ok=True)
        (exp / rel).write_bytes(bomb)
    code = run_search.main([command, str(exp), "--out", str(tmp_path / "report")])
    capsys.readouterr()
    assert code == 0
    assert not marker.exists(), f"`{command}` unpickled a file from the experiment"
    pickle.loads(bomb)  # the bomb is live: loading it does create the marker
    assert marker.exists()
