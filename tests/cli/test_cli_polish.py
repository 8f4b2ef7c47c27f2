"""The command line as a user meets it: help, names, version, list output, pipes, TensorBoard."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli.parser import SMOKE_HELP, build_parser

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = str(ROOT / "run_search.py")


def run(*argv: str, cwd: Path, program: list[str] | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*(program or [sys.executable, SCRIPT]), *argv], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def _parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser("dabs-tune")
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"(top)": parser, **sub.choices}


@pytest.mark.parametrize("command", list(_parsers()))
def test_every_flag_has_help_and_shows_its_default(command):
    parser = _parsers()[command]
    text = parser.format_help()
    for action in parser._actions:
        if not action.option_strings or isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            continue
        flag = action.option_strings[-1]
        assert action.help and action.help is not argparse.SUPPRESS, f"{command} {flag} has no help"
        if isinstance(action, argparse._StoreTrueAction):
            continue  # an on/off switch: off unless given
        formatter = parser._get_formatter()
        shown = formatter._expand_help(action) if hasattr(formatter, "_expand_help") else action.help
        assert "default" in shown, f"{command} {flag}: help does not say its default: {shown!r}"
        if action.default is not None:
            assert f"default: {action.default}" in " ".join(text.split()), f"{command} {flag}"


def test_smoke_test_help_is_specific_to_each_command():
    for name, parser in _parsers().items():
        if name == "(top)":
            continue
        smoke = next(a for a in parser._actions if "--smoke-test" in a.option_strings)
        assert smoke.help == SMOKE_HELP[name]
    # commands that train nothing say so
    assert all(SMOKE_HELP[c].startswith("no effect") for c in ("list", "export", "resume"))
    assert "steps" not in SMOKE_HELP["tensorboard"]


@pytest.mark.parametrize("program", ["run_search.py", "dabs-tune"])
def test_help_and_errors_use_the_invoked_name(program, tmp_path):
    # a file named like the command, so argv[0] is what the user typed
    link = tmp_path / program
    link.write_text(f"import sys; sys.path.insert(0, {str(ROOT)!r})\nfrom run_search import main\nsys.exit(main())\n")
    helped = run("search", "--help", cwd=tmp_path, program=[sys.executable, str(link)])
    assert helped.returncode == 0 and helped.stdout.startswith(f"usage: {program} search")
    other = {"run_search.py": "dabs-tune", "dabs-tune": "run_search.py"}[program]
    assert other not in helped.stdout  # the examples too
    failed = run("search", "--num-samples", "x", cwd=tmp_path, program=[sys.executable, str(link)])
    assert failed.returncode == 2 and failed.stderr.startswith(f"{program} search: error:")
    assert len(failed.stderr.strip().splitlines()) == 1
    user = run("search", "--num-samples", "0", cwd=tmp_path, program=[sys.executable, str(link)])
    assert user.returncode == 2 and user.stderr.strip() == f"{program}: error: --num-samples must be >= 1, but got 0"


def test_version(tmp_path):
    from importlib.metadata import version

    done = run("--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == f"run_search.py {version('dabs-tune')}"


def test_list_objectives_describes_each(tmp_path):
    from dabs_lib.objectives import OBJECTIVES

    lines = run("list", "objectives", cwd=tmp_path).stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == sorted(OBJECTIVES)
    assert all(len(line.split(maxsplit=1)) == 2 and len(line.split(maxsplit=1)[1]) > 20 for line in lines)


def test_list_spaces_is_a_table_and_json_on_request(tmp_path):
    from search_spaces import available_spaces

    table = run("list", "spaces", cwd=tmp_path).stdout
    assert table.splitlines()[0].split() == ["kind", "name", "description"]
    assert "{" not in table and "emix" in table and "digits" in table
    assert json.loads(run("list", "spaces", "--json", cwd=tmp_path).stdout) == available_spaces()


@pytest.mark.parametrize("what", ["objectives", "spaces", "experiments"])
def test_list_into_a_closed_pipe_ends_quietly(what, tmp_path):
    # `dabs-tune list spaces | head -0`: the reader is gone before the first write
    process = subprocess.Popen(
        [sys.executable, SCRIPT, "list", what], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert err == "", err
    assert process.returncode == 141


def _experiment(tmp_path: Path) -> Path:
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "search.json").write_text(json.dumps({"request": {}, "studies": []}))
    return tmp_path / "exp"


def test_tensorboard_on_a_busy_port_says_so_and_exits_2(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = run("tensorboard", str(_experiment(tmp_path)), "--port", str(port), cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip() == (
        f"run_search.py: error: --port {port}: 127.0.0.1:{port} is already in use; choose another port with --port"
    )
    assert "http://" not in done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "\nState:\tZ" not in status.read_text()
    except FileNotFoundError:
        return False


def _as_at_a_terminal() -> None:
    """Ctrl-C as at a terminal: a suite started in the background (`make test &`) hands every
    child an ignored SIGINT, which Python keeps ignored, and the wrapper could never see one."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads child processes from /proc (Linux)")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_stopping_the_wrapper_stops_tensorboard(signum, tmp_path):
    port = _free_port()
    wrapper = subprocess.Popen(
        [sys.executable, SCRIPT, "tensorboard", str(_experiment(tmp_path)), "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_at_a_terminal,
    )
    children: list[int] = []
    try:
        line = wrapper.stdout.readline()  # printed once TensorBoard answers
        assert f"http://127.0.0.1:{port}/" in line, line + wrapper.stderr.read()
        children = _children(wrapper.pid)
        assert len(children) == 1 and _alive(children[0])
        wrapper.send_signal(signum)
        assert wrapper.wait(timeout=30) == 0
        deadline = time.monotonic() + 15
        while _alive(children[0]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(children[0]), "TensorBoard outlived its wrapper"
    finally:
        if wrapper.poll() is None:
            wrapper.kill()
            wrapper.wait()
        for pid in children:  # a failed run leaves no TensorBoard behind (it is ours: started by this test)
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def test_pretrain_without_arguments_says_what_it_will_do(tmp_path):
    from dabs_lib.config import PretrainConfig

    # only the first line matters: stop it once printed
    process = subprocess.Popen(
        [sys.executable, SCRIPT, "pretrain", "--smoke-test", "--out", str(tmp_path / "o")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        first = process.stdout.readline()
    finally:
        process.kill()
        process.wait()
    assert first.startswith(
        f"pretrain: objective {PretrainConfig.objective} on domain {PretrainConfig.domain} (the defaults"
    )
    assert "linear probes" in first and str(tmp_path / "o" / "encoder.pt") in first
