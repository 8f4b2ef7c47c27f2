"""`pretrain --domain FILE` and `probe --domain FILE` (no Ray) on a user's domain of every input kind:
the file is checked and prepared first, then pretrained on and scored like a built-in domain."""

from __future__ import annotations

import json

import pytest

import run_search
from dabs_lib.userdomain import load_domain_file
from tests.dabs_lib.userdomain import files


@pytest.mark.parametrize("kind", sorted(files.WRITERS))
def test_pretrain_then_probe_a_domain_file(kind, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DABS_DATA_ROOT", str(tmp_path / "root"))
    path = files.write(kind, tmp_path / "data")
    out = tmp_path / "pt"
    code = run_search.main(["pretrain", "--domain", str(path), "--objective", "mae", "--smoke-test", "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err[-2000:]
    scores = json.loads((out / "scores.json").read_text())
    tasks = [t.name for t in load_domain_file(path).tasks]
    assert sorted(scores["test"]) == sorted(tasks) and all(0.0 <= v <= 1.0 for v in scores["test"].values())
    assert run_search.main(["probe", str(out / "encoder.pt"), "--domain", str(path)]) == 0
    probed = capsys.readouterr().out
    assert all(task in probed for task in tasks), probed
