"""Real data through the command line: relative data roots, the preflight before Ray starts,
a folder where a data file must be. Every bad case is one line on stderr, exit 2, nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import run_search
from dabs_lib.datasets import REAL_DOMAINS, domain_sources
from tests.dabs_lib.datasets.miniature import write_cifar, write_glue, write_wikitext

ROOT = Path(__file__).resolve().parents[3]


def _run(argv: list[str], capsys) -> tuple[int, str]:
    code = run_search.main(argv)
    return code, capsys.readouterr().err


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def empty_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DABS_DATA_ROOT", raising=False)
    return tmp_path


@pytest.mark.parametrize("domain", sorted(REAL_DOMAINS))
def test_search_without_data_stops_before_ray(domain, empty_cwd, capsys):
    code, err = _run(["search", "--domain", domain, "--objective", "mae", "--num-samples", "1"], capsys)
    line = _one_line(err)
    first_required = domain_sources(domain)[0][0]
    assert code == 2
    assert f"{first_required.name}: " in line and "is missing" in line
    assert str(empty_cwd / "data" / first_required.name) in line  # the absolute folder it looked in
    assert not any(empty_cwd.iterdir()), "no experiment folder for a search that cannot start"


def test_search_without_data_in_a_subprocess(empty_cwd):
    """The user's path: a fresh process, no traceback, exit 2, the download instruction."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "run_search.py"), "search", "--domain", "cifar10"],
        cwd=empty_cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr[-3000:]
    line = _one_line(done.stderr)
    assert "cifar-10-python.tar.gz" in line and "Traceback" not in done.stderr
    assert not any(empty_cwd.iterdir())


@pytest.mark.parametrize(
    "domain, writer, rel",
    [
        ("cifar10_small", write_cifar, "cifar10/cifar-10-batches-py/test_batch"),
        (
            "wikitext103",
            lambda root: (write_wikitext(root), write_glue(root)),
            "wikitext103/wikitext-103/wiki.train.tokens",
        ),
    ],
)
def test_a_folder_where_a_data_file_must_be(domain, writer, rel, empty_cwd, capsys):
    writer(empty_cwd / "data")
    path = empty_cwd / "data" / rel
    path.unlink()
    path.mkdir()
    code, err = _run(["search", "--domain", domain, "--objective", "mae"], capsys)
    line = _one_line(err)
    assert code == 2
    assert f"{path}: is a directory, but must be a file" in line
    assert not (empty_cwd / "runs").exists()


def test_relative_paths_become_absolute_in_the_request(empty_cwd):
    from cli.parser import build_parser
    from cli.search_cmd import request_from_args

    (empty_cwd / "mine.yaml").write_text("fixed:\n  max_steps: 3\n")
    args = build_parser().parse_args(
        [
            "search",
            "--domain",
            "cifar10_small",
            "--set",
            "data_root=data",
            "--space",
            "mine.yaml",
            "--space",
            "model_size",
        ]
    )
    request = request_from_args(args)
    assert request.overrides["data_root"] == str(empty_cwd / "data")
    assert request.space_files == (str(empty_cwd / "mine.yaml"), "model_size")


@pytest.mark.parametrize("env", ["", "shared/datasets"])
def test_a_real_domain_space_carries_the_absolute_default_root(env, empty_cwd, monkeypatch):
    from search_spaces import load_space

    if env:
        monkeypatch.setenv("DABS_DATA_ROOT", env)
    space = load_space("mae", "cifar10_small")
    assert space.fixed["data_root"] == str(empty_cwd / (env or "data"))
    assert "data_root" not in load_space("mae", "digits").fixed  # embedded domains read no files


@pytest.mark.slow
def test_search_with_a_relative_data_root(empty_cwd):
    """README's `--set data_root=data`: every trial, in its own Ray working folder, finds the files."""
    write_cifar(empty_cwd / "data")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "run_search.py"),
            "search",
            "--domain",
            "cifar10_small",
            "--objective",
            "mae",
            "--num-samples",
            "1",
            "--set",
            "data_root=data",
            "--set",
            "max_steps=2",
            "--set",
            "eval_every=1",
            "--smoke-test",
            "--storage-path",
            "runs",
            "--name",
            "rel",
            "--num-cpus",
            "2",
        ],
        cwd=empty_cwd,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    trials = sorted(p for p in (empty_cwd / "runs" / "rel").glob("cifar10_small_*") if p.is_dir())
    assert len(trials) == 2  # the mae trial and the random-init baseline
    for trial in trials:
        assert not (trial / "error.txt").exists(), (trial / "error.txt").read_text()
        params = json.loads((trial / "params.json").read_text())
        assert params["data_root"] == str(empty_cwd / "data")
        results = [json.loads(line) for line in (trial / "result.json").read_text().splitlines() if line.strip()]
        assert any(key.startswith("test/") for row in results for key in row), trial


def _list_domains(argv: list[str], capsys) -> dict[str, list[str]]:
    """domain -> [its line, its indented how-to lines] of `list domains`."""
    assert run_search.main(["list", "domains", *argv]) == 0
    out = capsys.readouterr().out.splitlines()
    rows: dict[str, list[str]] = {"": [out[0]]}
    last = ""
    for line in out[1:]:
        if line.startswith(" "):
            rows[last].append(line.strip())
        else:
            last = line.split()[0]
            rows[last] = [line]
    return rows


def test_list_domains_honours_the_env_root_one_line_per_domain(empty_cwd, monkeypatch, capsys):
    from dabs_lib.domains import DOMAINS

    shared = empty_cwd / "shared"
    write_cifar(shared)
    monkeypatch.setenv("DABS_DATA_ROOT", str(shared))
    rows = _list_domains([], capsys)
    assert rows[""] == [f"data root: {shared}"]
    assert set(rows) - {""} == set(DOMAINS)
    assert rows["cifar10_small"] == [f"cifar10_small    present   {shared / 'cifar10'}"]  # no how-to when present
    assert rows["digits"] == ["digits           embedded  in memory, no files"]
    line, *how = rows["wikitext103"]
    assert line.split()[:2] == ["wikitext103", "missing"] and str(shared / "wikitext103") in line
    assert [h.split(":")[0] for h in how] == ["[required] wikitext103", "[required] glue"]  # required only
    verbose = _list_domains(["--verbose"], capsys)
    assert any(h.startswith("[optional] aircraft:") for h in verbose["cifar10_small"][1:])
    flag = _list_domains(["--data-root", "elsewhere"], capsys)  # the flag wins over the environment
    assert flag[""] == [f"data root: {empty_cwd / 'elsewhere'}"] and flag["cifar10_small"][0].split()[1] == "missing"
