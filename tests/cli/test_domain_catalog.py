"""Bad domain files and bad data files: one line naming the file (and key or row), exit 2, before Ray,
no experiment folder and nothing prepared in the cache. Each case starts from a good miniature
domain (tests/dabs_lib/userdomain/files.py) and makes one mistake users make."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

import run_search
from tests.dabs_lib.userdomain import files


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (old, text)
    path.write_text(text.replace(old, new, 1))


def _rows(path: Path, transform: Callable[[list[str]], list[str]]) -> None:
    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    path.write_text("\n".join(transform(lines)) + "\n")


def _npz(path: Path, **changes) -> None:
    arrays = dict(np.load(path))
    arrays.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del arrays[key]
    np.savez(path, **arrays)


def _corpus_gz(folder: Path, data: bytes) -> None:
    """The text domain's unlabelled corpus as a gzip-compressed file holding `data`."""
    import gzip

    (folder / "corpus.txt.gz").write_bytes(gzip.compress(data))
    _edit(folder / "reviews.yaml", "unlabelled: {text: corpus.txt}", "unlabelled: {text: corpus.txt.gz}")


def _series_files(folder: Path, lengths: list[int]) -> Path:
    rows = ["recording,label"] + [f"r{i}.npy,{'ab'[i % 2]}" for i in range(len(lengths))]
    for i, length in enumerate(lengths):
        np.save(folder / f"r{i}.npy", np.random.default_rng(i).normal(size=(length, 2)))
    (folder / "index.csv").write_text("\n".join(rows) + "\n")
    path = folder / "rec.yaml"
    path.write_text(
        "inputs:\n  - {name: recording, kind: timeseries}\ndata: {table: index.csv}\n"
        "tasks:\n  - {name: label}\nsplit: {val: 0.2, test: 0.2}\n"
    )
    return path


def _table(folder: Path, text: str) -> None:
    (folder / "rows.csv").write_text(text)
    (folder / "rec.yaml").write_text(
        "inputs:\n  - {name: features, kind: tabular}\ndata: {table: rows.csv}\n"
        "tasks:\n  - {name: label}\nsplit: {val: 0.2, test: 0.2}\n"
    )


# case -> (fixture kind, mistake(folder, domain file) -> the --domain value (None: the domain file), expected text)
CASES: dict[str, tuple[str, Callable, str]] = {
    "unknown top-level key": ("tabular", lambda d, y: _edit(y, "name:", "nmae: x\nname:"), "unknown key 'nmae' in"),
    "input kind misspelt": (
        "image",
        lambda d, y: _edit(y, "kind: image", "kind: imag"),
        ("inputs[0].kind must be one of ['image', 'timeseries', 'text', 'tabular', 'audio'], but got 'imag' in"),
    ),
    "unknown input key": (
        "image",
        lambda d, y: _edit(y, "patch_size: 4", "patch_sise: 4"),
        "inputs[0] has unknown key 'patch_sise'",
    ),
    "no tasks": ("tabular", lambda d, y: _edit(y, "tasks:", "tsks:"), "unknown key 'tsks' in"),
    "tasks missing": ("tabular", lambda d, y: y.write_text(y.read_text().split("tasks:")[0]), "tasks must be given"),
    "task kind": ("tabular", lambda d, y: _edit(y, "kind: binary", "kind: binomial"), "tasks[0].kind must be one of"),
    "image array of floats": (
        "image_array",
        lambda d, y: _npz(d / "scans.npz", scan=np.zeros((30, 8, 8), np.float32)),
        "input 'scan' must hold uint8 pixels (0-255), but has dtype float32",
    ),
    "image array not square": (
        "image_array",
        lambda d, y: _npz(d / "scans.npz", scan=np.zeros((30, 8, 6), np.uint8)),
        "(N, side, side, 1 or 3) array of square images, channels last, but has shape (30, 8, 6)",
    ),
    "image array channels first": (
        "image_array",
        lambda d, y: _npz(d / "scans.npz", scan=np.zeros((30, 3, 8, 8), np.uint8)),
        "but has shape (30, 3, 8, 8)",
    ),
    "metric": (
        "tabular",
        lambda d, y: _edit(y, "label: target", "label: target, metric: acc"),
        "tasks[0].metric must be one of",
    ),
    "wrong type": (
        "image",
        lambda d, y: _edit(y, "patch_size: 4", "patch_size: four"),
        "inputs[0].patch_size must be an int, but got 'four'",
    ),
    "data folder missing": (
        "image",
        lambda d, y: _edit(y, "folder: photos", "folder: fotos"),
        "data.folder must be an existing folder",
    ),
    "table missing": (
        "tabular",
        lambda d, y: _edit(y, "measurements.parquet", "measurement.parquet"),
        "data.table must be an existing file",
    ),
    "malformed yaml": ("tabular", lambda d, y: _edit(y, "inputs:", "inputs: [\n"), "must be UTF-8 YAML"),
    "built-in name": (
        "tabular",
        lambda d, y: _edit(y, "name: measurements", "name: digits"),
        "must not be a built-in domain's, but got 'digits'",
    ),
    "patch does not divide": (
        "audio",
        lambda d, y: _edit(y, "size: 16", "size: 16, patch_size: 5"),
        "inputs[0].patch_size must divide size 16",
    ),
    "split fractions": (
        "image",
        lambda d, y: _edit(y, "val: 0.2, test: 0.2", "val: 0.6, test: 0.5"),
        "must hold 0 < val, 0 < test and val + test < 1",
    ),
    "missing column": (
        "multi",
        lambda d, y: _edit(y, "label: match", "label: matches"),
        "must have the column(s) ['matches']",
    ),
    "label outside classes": (
        "tabular",
        lambda d, y: _edit(y, "classes: ['no', 'yes']", "classes: ['no', 'ja']"),
        "label 'yes' is not one of the declared classes ['no', 'ja']",
    ),
    "empty label": (
        "multi",
        lambda d, y: _rows(d / "captions.csv", lambda r: r[:3] + [r[3].rsplit(",", 1)[0] + ","] + r[4:]),
        "row 4: task 'match': the label 'match' is empty; a row without a label belongs in the `unlabelled:` source",
    ),
    "class too small for the split": (
        "image",
        lambda d, y: [p.unlink() for p in sorted((d / "photos/dog").iterdir())[2:]],
        "class 'dog' has",
    ),
    "split value": (
        "multi",
        lambda d, y: _rows(d / "captions.csv", lambda r: [x.replace(",train,", ",training,") for x in r]),
        "column 'split' must be one of ['train', 'val', 'test'], but got 'training'",
    ),
    "empty test split": (
        "multi",
        lambda d, y: _rows(d / "captions.csv", lambda r: [x.replace(",test,", ",val,") for x in r]),
        "the test split has no rows",
    ),
    "mixed image sizes": (
        "image",
        lambda d, y: Image.new("RGB", (16, 12)).save(d / "photos/cat/9.png"),
        "is 16x12 pixels, but the first image is 12x12 (mixed image sizes)",
    ),
    "undecodable image": (
        "image",
        lambda d, y: (d / "photos/dog/3.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken"),
        "3.png: cannot be decoded as an image",
    ),
    "truncated image": (
        "multi",
        lambda d, y: (d / "pics/7.png").write_bytes((d / "pics/7.png").read_bytes()[:60]),
        "7.png: cannot be decoded as an image",
    ),
    "undecodable audio": (
        "audio",
        lambda d, y: (d / "clips/low/2.flac").write_bytes(b"fLaC not really"),
        "2.flac: cannot be decoded as audio",
    ),
    "mixed sample rates": (
        "audio",
        lambda d, y: soundfile.write(d / "clips/high/5.wav", np.zeros(4000) + 0.1, 16000),
        "has sample rate 16000 Hz, but the first clip has 8000 Hz",
    ),
    "empty audio clip": (
        "audio",
        lambda d, y: soundfile.write(d / "clips/high/3.wav", np.zeros(0), 8000),
        "holds no audio samples",
    ),
    "text not utf-8": (
        "text",
        lambda d, y: (d / "reviews.tsv").write_bytes("sentence\ttopic\ncaf\xe9 ok\ta\n".encode("latin-1")),
        "reviews.tsv: must be UTF-8 text, but line 2 holds the byte(s) b'\\xe9' (invalid continuation byte)",
    ),
    "label column named as the task": (
        "tabular",
        lambda d, y: _edit(y, "label: target, ", ""),
        "(task 'target' reads its labels from the column `label:` names, 'label'; for the column 'target' write "
        "`label: target`)",
    ),
    "gzip text corpus not utf-8": (
        "text",
        lambda d, y: _corpus_gz(d, "one line\ncaf\xe9 au lait\n".encode("latin-1")),
        "zcat corpus.txt.gz | iconv -f cp1252 -t utf-8 | gzip > utf8-corpus.txt.gz",
    ),
    "header only": ("multi", lambda d, y: _rows(d / "captions.csv", lambda r: r[:1]), "captions.csv: has no rows"),
    "constant input": (
        "timeseries",
        lambda d, y: _npz(d / "motion.npz", signal=np.zeros((36, 32, 2), np.float32)),
        "input 'signal' is constant over every pretraining row",
    ),
    "npz key missing": (
        "timeseries",
        lambda d, y: _edit(y, "label: activity", "label: activities"),
        "must hold the key(s) ['activities']",
    ),
    "npz rows differ": (
        "timeseries",
        lambda d, y: _npz(d / "motion.npz", activity=np.array(["run"] * 30)),
        "every array must have 36 rows",
    ),
    "not a number": (
        "none",
        lambda d, y: _table(
            d, "a,b,label\n" + "".join(f"{i},{i % 3},{'xy'[i % 2]}\n" for i in range(20)) + "7,seven,x\n"
        ),
        "row 22: column 'b' must be a number, but got 'seven'",
    ),
    "missing cell": (
        "none",
        lambda d, y: _table(d, "a,b,label\n" + "".join(f"{i},{i % 3},{'xy'[i % 2]}\n" for i in range(20)) + "7,NA,x\n"),
        "row 22: column 'b' must be a number, but got 'NA', a missing value (`missing: mean` on input 'features'",
    ),
    "image named but missing": ("multi", lambda d, y: (d / "pics/4.png").unlink(), "4.png: is missing"),
    "series lengths differ": (
        "none",
        lambda d, y: _series_files(d, [20] * 9 + [19] + [20] * 10),
        "has shape (19, 2), but the first series has (20, 2)",
    ),
    "binary with 3 classes": (
        "timeseries",
        lambda d, y: _edit(y, "label: activity}", "label: activity, kind: binary}"),
        "is binary, so it needs exactly 2 classes, but has 3",
    ),
    "regression label text": (
        "timeseries",
        lambda d, y: _edit(y, "label: activity}", "label: activity, kind: regression}"),
        "is a regression: the label must be a number, but got 'walk'",
    ),
    "NaN in series": (
        "timeseries",
        lambda d, y: _npz(
            d / "motion.npz",
            signal=np.where(
                np.arange(36)[:, None, None] == 5, np.nan, np.ones((36, 32, 2)) * np.arange(36)[:, None, None]
            ),
        ),
        "row 5: input 'signal' holds NaN",
    ),
    "empty folder": (
        "image",
        lambda d, y: _edit(y, "folder: photos", "folder: empty") or (d / "empty").mkdir(),
        "empty: holds no image files",
    ),
    "file outside a class folder": (
        "image",
        lambda d, y: Image.new("RGB", (12, 12)).save(d / "photos/loose.png"),
        "loose.png: lies outside a class folder",
    ),
    "jsonl not json": (
        "text",
        lambda d, y: (
            _edit(y, "reviews.tsv", "reviews.jsonl"),
            (d / "reviews.jsonl").write_text('{"sentence": "a b", "topic": "a"}\n{oops\n'),
        ),
        "line 2 is not JSON",
    ),
    "plain text as labelled data": (
        "text",
        lambda d, y: _edit(y, "data: {table: reviews.tsv}", "data: {text: corpus.txt}"),
        "must be a labelled source",
    ),
    "user tokenizer unreadable": (
        "text",
        lambda d, y: (_edit(y, "vocab_size: 100", "tokenizer: tok.json"), (d / "tok.json").write_text("{}")),
        "is not a Hugging Face tokenizer.json",
    ),
    "domain file missing": ("tabular", lambda d, y: str(d / "nothere.yaml"), "must be an existing .yaml file"),
}


def _run(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = run_search.main(argv)
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().err


def _written(root: Path) -> list[Path]:
    return [
        p for p in root.rglob("*") if p.is_file() and (p.suffix == ".npy" or p.name in ("COMPLETE.json", "domain.json"))
    ]


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_domain_is_one_line_exit_2_before_ray(case, tmp_path, capsys, monkeypatch):
    import ray

    kind, mistake, expected = CASES[case]
    data = tmp_path / "data"
    data.mkdir()
    path = files.write(kind, data) if kind != "none" else data / "rec.yaml"
    value = mistake(data, path)
    domain = value if isinstance(value, str) else str(path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DABS_DATA_ROOT", str(tmp_path / "root"))
    code, err = _run(
        [
            "search",
            "--domain",
            domain,
            "--objective",
            "mae",
            "--num-samples",
            "1",
            "--smoke-test",
            "--storage-path",
            str(tmp_path / "runs"),
        ],
        capsys,
    )
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    assert expected in lines[0], lines[0]
    assert "domain" in lines[0] or ".yaml" in lines[0] or str(data) in lines[0]
    assert not (tmp_path / "runs").exists(), "no experiment folder for bad input"
    assert not _written(tmp_path / "root"), "nothing prepared (or half-written) in the cache"
    assert not ray.is_initialized()


def test_catalog_is_large_enough():
    assert len(CASES) >= 25


def test_domain_check_refuses_a_bad_file_the_same_way(tmp_path, capsys, monkeypatch):
    path = files.write("image", tmp_path / "data")
    _edit(path, "kind: image", "kind: imag")
    monkeypatch.setenv("DABS_DATA_ROOT", str(tmp_path / "root"))
    code, err = _run(["domain", "check", str(path)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert (
        f"inputs[0].kind must be one of ['image', 'timeseries', 'text', 'tabular', 'audio'], but got 'imag' in {path}"
        in err
    )


@pytest.mark.parametrize(
    ("kind", "command", "expected"),
    [
        ("image", "search", "data_seed must equal split.seed of domain 'pets' (1,"),
        ("multi", "search", "data_seed does not apply to domain"),
        ("image", "pretrain", "data_seed must equal split.seed of domain 'pets' (1,"),
    ],
)
def test_a_data_seed_a_user_domain_cannot_honour_is_refused(kind, command, expected, tmp_path, capsys, monkeypatch):
    """A user domain's splits belong to its file: `--set data_seed` is refused there, not dropped."""
    import ray

    path = files.write(kind, tmp_path / "data")
    monkeypatch.setenv("DABS_DATA_ROOT", str(tmp_path / "root"))
    where = ["--storage-path", str(tmp_path / "runs"), "--num-samples", "1"] if command == "search" else []
    where = where or ["--out", str(tmp_path / "runs")]
    argv = [command, "--domain", str(path), "--objective", "mae", "--smoke-test", "--set", "data_seed=7", *where]
    code, err = _run(argv, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    assert expected in lines[0] and "data_seed=7" in lines[0], lines[0]
    assert not (tmp_path / "runs").exists()
    assert not ray.is_initialized()
