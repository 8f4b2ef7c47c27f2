"""`python -m dabs_lib.datasets status`: file checks only (no torch), and an exit status that
says whether the required data is there (0 present, 1 missing or misplaced, 2 bad usage)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dabs_lib.datasets import REAL_DOMAINS
from tests.dabs_lib.datasets.miniature import write_cifar

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("torch", "torchvision", "torchaudio", "lightning", "numpy", "pandas")


def status(*argv: str, cwd: Path, env: dict | None = None) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run the module as a user does; -X importtime lists every module the process imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dabs_lib.datasets", "status", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return done, imported


def _heavy(imported: set[str]) -> set[str]:
    return {name for name in imported if name.split(".")[0] in HEAVY}


def test_status_of_every_domain_imports_no_torch_and_exits_1_when_data_is_missing(tmp_path):
    done, imported = status("--data-root", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-2000:]
    assert not _heavy(imported)
    assert done.stdout.splitlines()[0] == f"data root: {tmp_path}"
    domain_lines = [line for line in done.stdout.splitlines()[1:] if not line.startswith("  ")]
    assert domain_lines == [f"{name}: MISSING" for name in sorted(REAL_DOMAINS)]


def test_status_of_a_present_domain_exits_0(tmp_path):
    write_cifar(tmp_path / "data")
    env = {k: v for k, v in os.environ.items() if k != "DABS_DATA_ROOT"}
    done, imported = status("cifar10_small", cwd=tmp_path, env=env)  # the default root: ./data
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert not _heavy(imported)
    assert done.stdout.splitlines()[:2] == [f"data root: {tmp_path / 'data'}", "cifar10_small: present"]
    assert "[required]" not in done.stdout and "[optional] aircraft" in done.stdout


def test_status_names_a_folder_where_a_file_must_be(tmp_path):
    folder = write_cifar(tmp_path)
    (folder / "test_batch").unlink()
    (folder / "test_batch").mkdir()
    done, _ = status("cifar10_small", "--data-root", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 1
    assert "cifar10_small: MISSING" in done.stdout
    assert f"[required] cifar10: {folder / 'test_batch'} is a directory, but must be a file" in done.stdout


def test_status_of_an_unknown_name_is_usage_error(tmp_path):
    done, _ = status("cifar11", cwd=tmp_path)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if not line.startswith("import time:")]
    assert len(lines) == 1 and lines[0].startswith("error: unknown real domain or dataset 'cifar11'; choose from")


@pytest.mark.parametrize("domain", ["cifar10", "librispeech", "wikitext103"])
def test_the_preflight_check_imports_no_torch(domain, tmp_path):
    code = (
        "import sys\nfrom dabs_lib.datasets import check_files, ManualDownloadError\n"
        f"try:\n    check_files({domain!r}, {str(tmp_path)!r})\nexcept ManualDownloadError as e:\n    print(e)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    assert done.stdout.splitlines()[-1] == "[]"
    assert "is missing" in done.stdout
