"""Corrupt state on read: each kind of damaged file a full disk or a kill leaves behind is
either tolerated (the trial shows as errored, naming the file) or refused with ONE line that
names the file and says what to do; never silently used, never "Expecting value: line 1
column 1" without a file name.

The experiment is a copy of the one tiny real search the analysis tests share. A corrupt
trial checkpoint met by `resume` inside a worker (a live search) is in test_worker_death.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import run_search
from tests.analysis.search_fixture import tiny_experiment

pytestmark = pytest.mark.slow


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _cut(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: max(1, len(data) // 2)])


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xff\x13garbage\n" * 3)


def _first(exp: Path, pattern: str) -> Path:
    found = sorted(exp.glob(pattern))
    assert found, f"the tiny search wrote no {pattern}"
    return found[0]


# kind -> (file pattern under the experiment, damage, outcome). outcome "refused": export exits 2
# with one line naming the file; "tolerated": export succeeds and results.csv names the file or
# marks the trial; the pattern picks a searched (not baseline) trial.
CASES = {
    "manifest empty": ("search.json", _empty, "refused"),
    "manifest cut": ("search.json", _cut, "refused"),
    "manifest garbage": ("search.json", _garbage, "refused"),
    "params.json empty": ("*_emix_001/params.json", _empty, "tolerated"),
    "params.json cut": ("*_emix_001/params.json", _cut, "tolerated"),
    "result.json cut": ("*_emix_001/result.json", _cut, "tolerated"),
    "result.json garbage": ("*_emix_001/result.json", _garbage, "tolerated"),
    "journal garbage": ("optuna.journal", _garbage, "refused"),
    "journal garbage line": ("optuna.journal", lambda p: _insert_garbage_line(p), "refused"),
}


def _insert_garbage_line(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3] + [b'{"op_code": 4, "cut\n'] + lines[3:]))


def _cut_at_half(path: Path) -> None:  # mid-line: the cut last line is dropped, the trials after it are lost
    _cut(path)
    assert not path.read_bytes().endswith(b"\n")


def _cut_on_a_line(path: Path) -> None:  # a clean cut: every line valid, the later trials gone
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[: len(lines) // 3]))


# kind -> (damage, what the one line must say); resume refuses each before Ray starts
JOURNAL_CASES = {
    "garbage": (_garbage, "line 1 must be an Optuna journal entry"),
    "garbage line": (_insert_garbage_line, "line 4 must be an Optuna journal entry"),
    "cut mid-line": (_cut_at_half, "but the trial folder"),
    "cut on a line": (_cut_on_a_line, "but the trial folder"),
    "empty": (_empty, "but the trial folder"),
    "missing": (lambda path: path.unlink(), "it is missing, but"),
}


@pytest.fixture
def experiment(tmp_path) -> Path:
    return Path(shutil.copytree(tiny_experiment(), tmp_path / "exp"))


def _export(exp: Path, out: Path, capsys) -> tuple[int, str]:
    code = run_search.main(["export", str(exp), "--out", str(out)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("kind", sorted(CASES))
def test_corrupt_file_is_named_or_tolerated(kind, experiment, tmp_path, capsys):
    pattern, damage, outcome = CASES[kind]
    victim = _first(experiment, pattern)
    damage(victim)
    code, err = _export(experiment, tmp_path / "report", capsys)
    if outcome == "refused":
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1, err
        assert str(victim) in lines[0] and "corrupt" in lines[0] and "Restore" in lines[0], lines[0]
        assert "Expecting value" not in lines[0] or str(victim) in lines[0]
        assert not (tmp_path / "report").exists()
        return
    assert code == 0, err
    results = (tmp_path / "report" / "tables" / "results.csv").read_text()
    trial = victim.parent.name
    if victim.name == "params.json":
        assert f"{victim} is corrupt" in results and "errored" in results, "the trial must show why it is unusable"
    if kind == "result.json garbage":
        assert f"{victim} is corrupt: line 1" in results
    assert trial in results
    if f"{victim} is corrupt" in results:  # named on the console too: one line, the file and what was done
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and str(victim) in lines[0] and "left out of the scores" in lines[0], err


def test_empty_error_files_from_a_full_disk_still_mark_the_trial(experiment, tmp_path, capsys):
    trial = _first(experiment, "*_emix_002")
    for name in ("result.json",):
        (trial / name).write_bytes(b"")
    (trial / "error.txt").write_bytes(b"")
    (trial / "error.pkl").write_bytes(b"")  # JSON-only readers never open it
    code, err = _export(experiment, tmp_path / "report", capsys)
    assert code == 0, err
    from analysis.results import _trial_rows, load_experiment

    table = load_experiment(experiment)
    assert trial.name in set(table["trial"]), "the trial is still listed (its state comes from the journal)"
    # where the journal has no final word on it (a trial Tune gave up on), the empty error.txt decides
    row = _trial_rows(trial, states={})[-1]
    assert row["status"] == "errored" and "error.txt is empty" in row["error"]


def test_a_half_published_result_file_left_by_a_kill_changes_nothing(experiment, tmp_path, capsys):
    """trainables.result_mirror publishes a trial's result.json as `result.json.part`, then a move:
    a kill between the two leaves the part beside the real file (or alone). Readers take neither
    for the trial's results, and `status` and `export` give what they give without it."""
    code, _ = _export(experiment, tmp_path / "clean", capsys)
    assert code == 0
    assert run_search.main(["status", str(experiment)]) == 0
    clean_status = capsys.readouterr().out
    for trial in sorted(experiment.glob("*_emix_00[0-9]")):
        data = (trial / "result.json").read_bytes()
        (trial / "result.json.part").write_bytes(data[: len(data) // 2])  # cut mid-copy
    code, err = _export(experiment, tmp_path / "stray", capsys)
    assert code == 0 and ".part" not in err, err
    tables = sorted(path.name for path in (tmp_path / "clean" / "tables").glob("*.csv"))
    assert "results.csv" in tables
    for table in tables:
        clean, stray = (tmp_path / out / "tables" / table for out in ("clean", "stray"))
        assert stray.read_text() == clean.read_text(), table
    assert run_search.main(["status", str(experiment)]) == 0
    assert capsys.readouterr().out == clean_status


def test_truncated_trial_checkpoint_is_named_by_probe(experiment, capsys):
    encoder = _first(experiment, "*_emix_*/checkpoint_*/encoder.pt")
    _cut(encoder)
    code = run_search.main(["probe", str(encoder), "--smoke-test"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and f"{encoder} is corrupt" in err[0], err


def test_corrupt_feature_cache_entry_is_recomputed_not_used(tmp_path, caplog):
    import numpy as np

    from dabs_lib.config import config_from_dict
    from dabs_lib.domains import get_domain
    from dabs_lib.initial import initial_encoder
    from dabs_lib.transfer import evaluate_transfer

    config = config_from_dict({"domain": "digits", "objective": "shed", "smoke_test": True})
    domain = get_domain("digits", smoke=True)
    task = domain.tasks[domain.default_task]
    encoder = initial_encoder(config, domain).eval()
    first = evaluate_transfer(encoder, task, cache_dir=tmp_path / "cache")
    entries = sorted((tmp_path / "cache").glob("*/features.npy"))
    assert entries, "the on-disk cache was not written"
    _cut(entries[0])
    second = evaluate_transfer(encoder, task, cache_dir=tmp_path / "cache")
    assert "is corrupt" in caplog.text and str(entries[0].parent) in caplog.text
    assert second.score == pytest.approx(first.score) and second.val_score == pytest.approx(first.val_score)
    assert np.load(entries[0]).shape[0] > 0, "the entry was rewritten whole"


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


@pytest.mark.parametrize("kind", sorted(JOURNAL_CASES))
def test_corrupt_journal_is_refused_by_resume_before_ray(kind, experiment, capsys):
    import json

    import ray

    from dabs_lib.experiment import JOURNAL, MANIFEST

    manifest = json.loads((experiment / MANIFEST).read_text())
    (experiment / MANIFEST).write_text(json.dumps(dict(manifest, status="interrupted")))  # resumable
    damage, says = JOURNAL_CASES[kind]
    damage(experiment / JOURNAL)
    before = _snapshot(experiment)
    code = run_search.main(["resume", str(experiment)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert f"{experiment / JOURNAL} is corrupt" in err[0] and says in err[0] and "Restore it" in err[0], err[0]
    assert _snapshot(experiment) == before, "a refused resume changes nothing"
    assert not ray.is_initialized()


@pytest.mark.parametrize("damage", [_cut, _garbage, _empty, "flip"])
def test_trial_checkpoint_check_names_the_stored_file(tmp_path, damage):
    """What a resumed trial checks before Lightning reads its trainer.ckpt (a real one, from the
    tiny search): a cut, garbage, empty or bit-flipped file raises one line naming the stored file."""
    from dabs_lib.safe_io import CorruptFileError, check_zip

    source = _first(tiny_experiment(), "*_emix_*/checkpoint_*/trainer.ckpt")
    copy = tmp_path / "trainer.ckpt"
    copy.write_bytes(source.read_bytes())
    check_zip(copy, str(source))  # intact: passes
    if damage == "flip":  # one byte inside the stored tensors: only the CRC check sees it
        data = bytearray(copy.read_bytes())
        data[len(data) // 2] ^= 0xFF
        copy.write_bytes(bytes(data))
    else:
        damage(copy)
    with pytest.raises(CorruptFileError) as caught:
        check_zip(copy, "runs/exp/t_000/checkpoint_000001/trainer.ckpt", "Restore it.")
    message = str(caught.value)
    assert message.startswith("runs/exp/t_000/checkpoint_000001/trainer.ckpt is corrupt: ") and "\n" not in message
    assert message.endswith("Restore it."), message
