"""Packaging: every import is declared, the lock file pins it, and the wheel works on its own.

The wheel test is what a user does: build the wheel, install it (not editable) into a fresh
virtual environment with the locked dependencies, and run `dabs-tune` from another folder.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def shipped_files() -> list[Path]:
    """The .py files the wheel ships: pyproject's packages and modules."""
    setuptools = PYPROJECT["tool"]["setuptools"]
    packages = [pattern.rstrip("*") for pattern in setuptools["packages"]["find"]["include"]]
    files = [ROOT / f"{module}.py" for module in setuptools["py-modules"]]
    return files + [p for package in packages for p in sorted((ROOT / package).rglob("*.py"))]


def first_party() -> set[str]:
    return {p.relative_to(ROOT).parts[0].removesuffix(".py") for p in shipped_files()}


def third_party_imports() -> dict[str, set[str]]:
    """Top-level module name -> files importing it (at any depth: lazy imports count too)."""
    found: dict[str, set[str]] = {}
    local = first_party() | {"__future__"}
    for path in shipped_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in local and top not in sys.stdlib_module_names:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def declared() -> dict[str, Requirement]:
    requirements = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    return {canonicalize_name(r.name): r for r in requirements}


def test_the_wheel_ships_every_package_the_code_imports():
    assert {"cli", "dabs_lib", "analysis", "trainables", "search_spaces", "run_search"} <= first_party()
    assert (ROOT / "cli" / "__init__.py").is_file()  # find_packages needs it


def test_every_third_party_import_is_a_declared_dependency():
    distributions = packages_distributions()
    missing = {}
    for module, files in sorted(third_party_imports().items()):
        names = {canonicalize_name(d) for d in distributions.get(module, [module])}
        if not names & set(declared()):
            missing[module] = sorted(files)[:3]
    assert not missing, f"imported but not in pyproject's dependencies: {missing}"


def test_the_lock_pins_every_declared_dependency_at_an_allowed_version():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirement = Requirement(line)
            pins[canonicalize_name(requirement.name)] = next(iter(requirement.specifier)).version
    for name, requirement in declared().items():
        assert name in pins, f"{name} is declared in pyproject.toml but not pinned in requirements.lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside pyproject's {requirement}"
        )
    txt = [
        Requirement(line)
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for requirement in txt:
        name = canonicalize_name(requirement.name)
        assert requirement.specifier.contains(pins[name]), f"requirements.txt {requirement} vs lock {pins[name]}"


def _uv(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "uv", *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_runs_from_elsewhere(tmp_path):
    dist, venv, work = tmp_path / "dist", tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    _uv("build", "--quiet", "--out-dir", str(dist), str(ROOT))  # sdist, then the wheel from the sdist
    wheel = next(dist.glob("dabs_tune-*.whl"))
    _uv("venv", "--quiet", "--python", sys.executable, str(venv))
    python = venv / "bin" / "python"
    _uv("pip", "install", "--quiet", "--python", str(python), "-r", str(ROOT / "requirements.lock"), str(wheel))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    command = venv / "bin" / "dabs-tune"

    def run(*argv: str) -> subprocess.CompletedProcess:
        done = subprocess.run([str(command), *argv], cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"dabs-tune {' '.join(argv)}: " + done.stdout[-2000:] + done.stderr[-3000:]
        return done

    where = subprocess.run(
        [str(python), "-c", "import cli, run_search; print(cli.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(venv) in where and str(ROOT) not in where  # the installed copy, not the checkout
    assert run("--help").stdout.startswith("usage: dabs-tune")
    assert "digits" in run("list", "domains").stdout
    run(
        "search",
        "--domain",
        "tabular",
        "--objective",
        "mae",
        "--num-samples",
        "1",
        "--no-baseline",
        "--set",
        "max_steps=2",
        "--set",
        "eval_every=1",
        "--smoke-test",
        "--storage-path",
        "runs",
        "--name",
        "s",
        "--num-cpus",
        "2",
    )
    manifest = json.loads((work / "runs" / "s" / "search.json").read_text())
    assert [s["status"] for s in manifest["studies"]] == ["finished"]
