"""Every code block in docs/*.md that a user would run is run here, or marked as needing real data.

The convention (docs/development.md, "Code blocks in docs/"): a fenced block tagged `bash`, `sh`,
`console` or `python` is a command; the line right above its fence is one of
    <!-- docs-test: run -->                  run as written (bash: line by line; python: the block)
    <!-- docs-test: smoke -->                run at smoke size: `--smoke-test` appended to each
                                             `run_search.py` command; python: `"smoke_test": True`
                                             put first into every `config_from_dict({...})`
    <!-- docs-test: needs-data: <what> -->   not run; says what real data, experiment or server it needs
Blocks tagged `text` (output, layouts, synopses) and `yaml` are not commands (YAML must parse);
an untagged block fails this test, so nothing slips through unclassified. Commands run in a fresh
temporary folder, offline, with this checkout importable; `run_search.py` lines of every block,
marked needs-data or not, are parsed by the real argument parser so no documented flag goes stale.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ("bash", "sh", "console", "python")
NOT_COMMANDS = ("text", "yaml")
MARKER = re.compile(r"^<!-- docs-test: (run|smoke|needs-data: (?P<why>.+\S)) -->$")


@dataclass(frozen=True)
class Block:
    where: str  # docs/<file>.md:<line of the opening fence>
    lang: str
    marker: str  # run | smoke | needs-data | "" (none)
    text: str


def blocks() -> list[Block]:
    found = []
    for path in sorted((ROOT / "docs").glob("*.md")):
        lines = path.read_text().splitlines()
        i = 0
        while i < len(lines):
            if lines[i].startswith("```"):
                end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
                match = MARKER.match(lines[i - 1].strip()) if i else None
                marker = "" if match is None else match[1].split(":")[0]
                found.append(
                    Block(f"docs/{path.name}:{i + 1}", lines[i][3:].strip(), marker, "\n".join(lines[i + 1 : end]))
                )
                i = end
            i += 1
    return found


BLOCKS = blocks()
COMMAND_BLOCKS = [b for b in BLOCKS if b.lang in COMMANDS]
RUN_BLOCKS = [b for b in COMMAND_BLOCKS if b.marker in ("run", "smoke")]


def commands(block: Block) -> list[str]:
    """The command lines of a bash block (comments dropped)."""
    out = []
    for line in block.text.splitlines():
        line = line.split("  #")[0].strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def smoke(command: str) -> str:
    return command + " --smoke-test" if "run_search.py" in command and "--smoke-test" not in command else command


def test_the_docs_have_command_blocks_and_some_run() -> None:
    assert COMMAND_BLOCKS and RUN_BLOCKS  # the parser sees the blocks (else every test below is vacuous)


@pytest.mark.parametrize("block", BLOCKS, ids=[b.where for b in BLOCKS])
def test_every_block_is_tagged_and_every_command_block_is_marked(block: Block) -> None:
    assert block.lang in COMMANDS + NOT_COMMANDS, f"{block.where}: tag the block with one of {COMMANDS + NOT_COMMANDS}"
    if block.lang in COMMANDS:
        assert block.marker, f"{block.where}: put <!-- docs-test: run|smoke|needs-data: ... --> above the block"
    if block.lang == "yaml":
        assert isinstance(yaml.safe_load(block.text), dict), block.where


@pytest.mark.parametrize("block", COMMAND_BLOCKS, ids=[b.where for b in COMMAND_BLOCKS])
def test_every_documented_run_search_command_parses(block: Block) -> None:
    from cli.parser import build_parser

    lines = [c for c in commands(block) if block.lang != "python" and "run_search.py" in c]
    for line in lines:
        argv = shlex.split(line.replace("<", "").replace(">", ""))
        argv = argv[argv.index(next(a for a in argv if a.endswith("run_search.py"))) + 1 :]
        build_parser().parse_args(argv)  # exits 2 (SystemExit) on a flag or choice that no longer exists


def readme_commands() -> list[str]:
    """The `dabs-tune` and `run_search.py` lines of the README's bash blocks."""
    text = (ROOT / "README.md").read_text()
    found = re.findall(r"```bash\n(.*?)```", text, re.DOTALL)
    block = Block("README.md", "bash", "", "\n".join(found))
    return [c for c in commands(block) if c.startswith("dabs-tune ") or "run_search.py" in c]


def test_every_readme_command_parses() -> None:
    """The README's blocks not run end to end (the search it documents at full size) keep their flags current."""
    from cli.parser import build_parser

    lines = readme_commands()
    assert any("--shared-config" in line for line in lines), lines  # the finder sees the blocks
    for line in lines:
        argv = shlex.split(line)
        if argv[-1] in ("--help", "--version"):  # they print and exit 0
            continue
        start = 1 if argv[0] == "dabs-tune" else argv.index(next(a for a in argv if a.endswith("run_search.py"))) + 1
        build_parser().parse_args(argv[start:])


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), CUDA_VISIBLE_DEVICES="")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # `python` = this interpreter
    return env


@pytest.mark.parametrize("block", RUN_BLOCKS, ids=[b.where for b in RUN_BLOCKS])
def test_every_runnable_block_runs(block: Block, tmp_path: Path) -> None:
    if block.lang == "python":
        code = block.text
        if block.marker == "smoke":
            code = code.replace("config_from_dict({", 'config_from_dict({"smoke_test": True, ')
        runs = [[sys.executable, "-c", code]]
    else:
        runs = [["bash", "-c", smoke(c) if block.marker == "smoke" else c] for c in commands(block)]
    # A Python block's temp folders (`pretrain(config)` keeps its encoder in one) land in tmp_path
    env = dict(_env(), TMPDIR=str(tmp_path)) if block.lang == "python" else _env()
    for argv in runs:
        done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{block.where}: {argv[-1]}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        expected = re.search(r"#\s*(\d+)\s*$", block.text.splitlines()[0]) if len(runs) == 1 else None
        if expected:  # a documented printed value (e.g. "# 9461760") must be what the command prints
            assert done.stdout.strip() == expected[1], (block.where, done.stdout)


def test_the_checker_rejects_an_unmarked_command_block() -> None:
    assert MARKER.match("<!-- docs-test: needs-data: a finished experiment -->")
    assert not MARKER.match("<!-- docs-test: needs-data: -->")  # a reason is required
    assert not MARKER.match("<!-- docs-test: maybe -->")
