"""The bad-input catalog: every case prints ONE line saying what must hold, what was given
and where, exits 2, and writes nothing (the working and storage folders are unchanged).

In-process (`run_search.main`), so the whole catalog runs in seconds; no case starts Ray or
reads data (each is refused before). `CASES` maps a name to (argv, expected fragments); argv
may use {tmp} (the test's folder) and the files `setup` writes there first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import run_search

SPACE = "search:\n  lr: {type: loguniform, low: 1.0e-5, high: 1.0e-3, default: 1.0e-4, doc: lr}\n"
MANIFEST = (
    '{"format": 2, "kind": "search", "status": "interrupted", "request": {"domains": ["digits"], '
    '"objectives": ["shed"]}, "studies": [{"domain": "digits", "objective": "shed", "trials": 2}]}'
)
FILES = {  # file name -> contents, written under {tmp} before every case
    "syntax.yaml": "search:\n  lr: {type: loguniform\n",
    "bounds.yaml": "search:\n  lr: {type: loguniform, low: 0.1, high: 0.01, doc: x}\n",
    "logzero.yaml": "search:\n  lr: {type: loguniform, low: 0, high: 0.01, doc: x}\n",
    "intfloat.yaml": "search:\n  depth: {type: int, low: 1.5, high: 4, doc: x}\n",
    "default.yaml": "search:\n  lr: {type: loguniform, low: 1.0e-5, high: 1.0e-3, default: 0.5, doc: x}\n",
    "unknownparam.yaml": "search:\n  lrr: {type: loguniform, low: 1.0e-5, high: 1.0e-3, doc: x}\n",
    "unknownentry.yaml": "search:\n  lr: {type: loguniform, lowe: 1.0e-5, high: 1.0e-3, doc: x}\n",
    "listroot.yaml": "- lr\n- depth\n",
    "unknowntype.yaml": "search:\n  lr: {type: gaussian, low: 1.0e-5, high: 1.0e-3, doc: x}\n",
    "emptychoices.yaml": "search:\n  batch_size: {type: choice, choices: [], doc: x}\n",
    "nodoc.yaml": "search:\n  lr: {type: loguniform, low: 1.0e-5, high: 1.0e-3}\n",
    "toplevel.yaml": "serch:\n  lr: {type: loguniform, low: 1.0e-5, high: 1.0e-3, doc: x}\n",
    "fixedtype.yaml": "fixed:\n  depth: two\n",
    "config_syntax.yaml": "domain: digits\nobjective: [shed\n",
    "config_list.yaml": "- domain\n- digits\n",
    "config_unknown.yaml": "domain: digits\nobjective: shed\ndepthh: 2\n",
    "config_type.yaml": "domain: digits\nobjective: shed\ndepth: two\n",
    "config_domain.yaml": "domain: mnist\nobjective: shed\n",
    "not_an_experiment/readme.txt": "hello\n",
    "corrupt_exp/search.json": "",
    "cut_exp/search.json": '{"request": {"domains": ["digits"], "objectives": ["shed"]}, "studies": [{"dom',
    "a_file": "not a folder\n",
    "journal_exp/search.json": MANIFEST,
    "journal_exp/optuna.journal": '{"op_code": 0, "worker_id": "w", "study_name": "digits-shed"}\nnot json\n{}\n',
    "lost_journal/search.json": MANIFEST,
    "lost_journal/digits_shed_000/params.json": "{}\n",
    "text.pt": "this is not a checkpoint\n",
    "heads_range.yaml": "search:\n  num_heads: {type: choice, choices: [0, 2], doc: x}\n",
    "lr_range.yaml": "search:\n  lr: {type: uniform, low: -0.1, high: 0.1, default: 0.01, doc: x}\n",
    "dropout_range.yaml": "search:\n  dropout: {type: uniform, low: 0.0, high: 1.5, default: 0.1, doc: x}\n",
    "steps_corner.yaml": "search:\n  max_steps: {type: int, low: 10, high: 800, default: 600, doc: x}\n",
    "batch_corner.yaml": "search:\n  batch_size: {type: choice, choices: [1, 64], default: 64, doc: x}\n",
    "fixed_range.yaml": "fixed:\n  depth: 0\n",
    "config_nested.yaml": "domain: digits\ndepth: [2, [3]]\n",
    "config_block_list.yaml": "config: [1, 2]\n",
    "config_range.yaml": "domain: digits\nobjective: shed\ncorruption_rate: 1.5\n",
    "config_relation.yaml": "domain: digits\nmax_steps: 10\neval_every: 20\n",
}

CASES = {
    # --- search flags: unknown names, wrong types, out of range, conflicts, --set ---
    "unknown domain": (["search", "--domain", "mnist"], ["unknown domain 'mnist'", "choose from"]),
    "unknown objective": (["search", "--objective", "simclr"], ["unknown objective 'simclr'"]),
    "unknown sampler": (["search", "--sampler", "annealing"], ["--sampler", "unknown sampler 'annealing'"]),
    "unknown scheduler": (["search", "--scheduler", "sha"], ["--scheduler", "unknown scheduler 'sha'"]),
    "refused scheduler": (["search", "--scheduler", "pbt"], ["--scheduler pbt", "refuses any search algorithm"]),
    "unknown flag": (["search", "--frobnicate"], ["unrecognized arguments: --frobnicate"]),
    "unknown command": (["serach"], ["invalid choice: 'serach'"]),
    "num samples not int": (["search", "--num-samples", "many"], ["--num-samples", "invalid int value: 'many'"]),
    "seed not int": (["search", "--seed", "1.5"], ["--seed", "invalid int value: '1.5'"]),
    "cpus not number": (["search", "--cpus-per-trial", "one"], ["--cpus-per-trial", "invalid float value"]),
    "num samples zero": (["search", "--num-samples", "0"], ["--num-samples must be >= 1, but got 0"]),
    "cpus zero": (["search", "--cpus-per-trial", "0"], ["--cpus-per-trial must be > 0, but got 0.0"]),
    "gpus negative": (["search", "--gpus-per-trial", "-1"], ["--gpus-per-trial must be >= 0, but got -1.0"]),
    "max concurrent negative": (["search", "--max-concurrent", "-1"], ["--max-concurrent must be >= 0, but got -1"]),
    "keep checkpoints zero": (["search", "--keep-checkpoints", "0"], ["--keep-checkpoints must be >= 1, but got 0"]),
    "reduction factor one": (["search", "--reduction-factor", "1"], ["--reduction-factor must be >= 2, but got 1"]),
    "grace period zero": (["search", "--grace-period", "0"], ["--grace-period must be >= 1, but got 0"]),
    "num cpus negative": (["search", "--num-cpus", "-2"], ["--num-cpus must be >= 0, but got -2"]),
    "multi objective choice": (
        ["search", "--multi-objective", "flops"],
        ["--multi-objective", "invalid choice: 'flops'"],
    ),
    "multi objective with cmaes": (
        ["search", "--multi-objective", "seconds", "--sampler", "cmaes"],
        ["--multi-objective", "--sampler cmaes", "single-objective"],
    ),
    "num cpus with address": (
        ["search", "--address", "127.0.0.1:6379", "--num-cpus", "2"],
        ["--num-cpus", "--address"],
    ),
    "name with separator": (["search", "--name", "a/../../escape"], ["--name", "one folder name", "'a/../../escape'"]),
    "name dot dot": (["search", "--name", ".."], ["--name", "one folder name", "'..'"]),
    "set without equals": (["search", "--set", "lr"], ["--set takes key=value, but got 'lr'"]),
    "set empty key": (["search", "--set", "=3"], ["--set takes key=value, but got '=3'"]),
    "set unknown key": (["search", "--set", "lrr=0.1"], ["'lrr'", "did you mean 'lr'?"]),
    "set wrong type": (["search", "--set", "depth=two"], ["depth", "'two'"]),
    "set bad yaml": (["search", "--set", "lr=[1,"], ["--set lr", "not a valid value"]),
    "set unknown precision": (
        ["search", "--set", "precision=fp16"],
        ["`precision` must be one of", "'fp16'", "overrides: precision"],
    ),
    "set model value out of its choices": (
        ["search", "--set", "pooling=max"],
        ["`pooling` must be one of ['mean', 'cls']", "'max'", "overrides: pooling"],
    ),
    "space missing": (["search", "--space", "{tmp}/nope.yaml"], ["nope.yaml"]),
    "data root is a file": (["search", "--set", "data_root={tmp}/a_file"], ["data_root", "a folder", "a_file"]),
    # --- search-space YAML ---
    "space syntax": (["search", "--space", "{tmp}/syntax.yaml"], ["must be valid YAML", "syntax.yaml"]),
    "space bounds": (["search", "--space", "{tmp}/bounds.yaml"], ["`low <= high` must hold", "bounds.yaml: search.lr"]),
    "space log zero": (["search", "--space", "{tmp}/logzero.yaml"], ["`low > 0` must hold", "logzero.yaml"]),
    "space int bounds": (
        ["search", "--space", "{tmp}/intfloat.yaml"],
        ["must be an int", "intfloat.yaml: search.depth"],
    ),
    "space default range": (["search", "--space", "{tmp}/default.yaml"], ["`low <= default <= high`", "default.yaml"]),
    "space unknown param": (["search", "--space", "{tmp}/unknownparam.yaml"], ["'lrr'", "unknownparam.yaml"]),
    "space unknown entry key": (["search", "--space", "{tmp}/unknownentry.yaml"], ["'lowe'", "unknownentry.yaml"]),
    "space list root": (["search", "--space", "{tmp}/listroot.yaml"], ["must hold a mapping", "listroot.yaml"]),
    "space unknown type": (["search", "--space", "{tmp}/unknowntype.yaml"], ["`type` must be one of", "'gaussian'"]),
    "space empty choices": (["search", "--space", "{tmp}/emptychoices.yaml"], ["`choices` must be a non-empty list"]),
    "space no doc": (["search", "--space", "{tmp}/nodoc.yaml"], ["`doc` must be", "nodoc.yaml"]),
    "space top level": (["search", "--space", "{tmp}/toplevel.yaml"], ["top-level keys must be among", "'serch'"]),
    "space fixed type": (["search", "--space", "{tmp}/fixedtype.yaml"], ["must be of type int", "fixedtype.yaml"]),
    # --- resume / analyze / export / tensorboard / list of non-experiments and corrupt ones ---
    "resume missing": (["resume", "{tmp}/nowhere"], ["is not a dabs-tune experiment", "nowhere"]),
    "resume non-experiment": (["resume", "{tmp}/not_an_experiment"], ["is not a dabs-tune experiment"]),
    "resume empty manifest": (["resume", "{tmp}/corrupt_exp"], ["search.json is corrupt", "empty"]),
    "resume cut manifest": (["resume", "{tmp}/cut_exp"], ["search.json is corrupt"]),
    "resume garbage journal": (
        ["resume", "{tmp}/journal_exp"],
        ["journal_exp/optuna.journal is corrupt: line 2", "Restore it from a copy"],
    ),
    "resume journal missing": (
        ["resume", "{tmp}/lost_journal"],
        ["lost_journal/optuna.journal is corrupt", "missing, but 1 trial folders exist"],
    ),
    "export garbage journal": (["export", "{tmp}/journal_exp"], ["journal_exp/optuna.journal is corrupt: line 2"]),
    "analyze non-experiment": (["analyze", "{tmp}/not_an_experiment"], ["is not a dabs-tune experiment"]),
    "analyze empty manifest": (["analyze", "{tmp}/corrupt_exp"], ["search.json is corrupt", "empty"]),
    "analyze negative seeds": (["analyze", "{tmp}/cut_exp", "--seeds", "-1"], ["--seeds must be >= 0, but got -1"]),
    "export non-experiment": (["export", "{tmp}/not_an_experiment"], ["is not a dabs-tune experiment"]),
    "export a file": (["export", "{tmp}/a_file"], ["is not a dabs-tune experiment", "a_file"]),
    "export cut manifest": (["export", "{tmp}/cut_exp"], ["search.json is corrupt", "line 1 column"]),
    "tensorboard non-experiment": (["tensorboard", "{tmp}/not_an_experiment"], ["is not a dabs-tune experiment"]),
    "list data root is a file": (["list", "domains", "--data-root", "{tmp}/a_file"], ["--data-root", "a folder"]),
    # --- probe of missing, truncated, foreign or non-checkpoint files ---
    "probe missing": (["probe", "{tmp}/none.pt"], ["does not exist", "none.pt"]),
    "probe text file": (["probe", "{tmp}/text.pt"], ["text.pt is corrupt", "weights_only=True"]),
    "probe truncated": (["probe", "{tmp}/truncated.pt"], ["truncated.pt is corrupt"]),
    "probe foreign": (["probe", "{tmp}/foreign.pt"], ["foreign.pt is not a dabs-tune encoder checkpoint"]),
    "probe pickled code": (["probe", "{tmp}/code.pt"], ["code.pt is corrupt", "weights_only=True"]),
    "probe bad fewshot": (["probe", "{tmp}/good.pt", "--fewshot", "0"], ["--fewshot must be >= 1, but got 0"]),
    "probe search zero samples": (
        ["probe", "{tmp}/good.pt", "--search", "--num-samples", "0"],
        ["--num-samples must be >= 1, but got 0"],
    ),
    # --- pretrain --config with bad files, bad --set ---
    "pretrain config missing": (["pretrain", "--config", "{tmp}/nope.yaml"], ["--config", "does not exist"]),
    "pretrain config syntax": (
        ["pretrain", "--config", "{tmp}/config_syntax.yaml"],
        ["malformed YAML", "config_syntax"],
    ),
    "pretrain config list": (["pretrain", "--config", "{tmp}/config_list.yaml"], ["must be a mapping", "got list"]),
    "pretrain config unknown key": (
        ["pretrain", "--config", "{tmp}/config_unknown.yaml"],
        ["'depthh'", "config_unknown"],
    ),
    "pretrain config wrong type": (["pretrain", "--config", "{tmp}/config_type.yaml"], ["depth", "config_type"]),
    "pretrain config unknown domain": (
        ["pretrain", "--config", "{tmp}/config_domain.yaml"],
        ["unknown domain 'mnist'"],
    ),
    "pretrain set unknown key": (["pretrain", "--domain", "digits", "--set", "depthh=2"], ["unknown key 'depthh'"]),
    "pretrain out is a file": (
        ["pretrain", "--domain", "digits", "--out", "{tmp}/a_file"],
        ["--out", "a_file", "a folder"],
    ),
    # --- relations between settings, searched ranges, flags that would override --set ---
    "search eval_every over max_steps": (
        ["search", "--set", "max_steps=20", "--set", "eval_every=50"],
        ["`eval_every <= max_steps` must hold", "eval_every=50, max_steps=20"],
    ),
    "search emix batch of one": (
        ["search", "--set", "batch_size=1", "--no-baseline"],
        ["`batch_size` must be 0 (the domain's) or >= 2", "batch_size=1"],
    ),
    "search l2 path reversed": (
        ["search", "--set", "l2_min=1", "--set", "l2_max=0.1"],
        ["`l2_min <= l2_max` must hold"],
    ),
    "space searched choices out of range": (
        ["search", "--space", "{tmp}/heads_range.yaml"],
        ["every searched value of `num_heads` must be >= 1", "heads_range.yaml"],
    ),
    "space searched low out of range": (
        ["search", "--space", "{tmp}/lr_range.yaml"],
        ["every searched value of `lr` must be > 0", "low=-0.1", "lr_range.yaml"],
    ),
    "space searched high out of range": (
        ["search", "--space", "{tmp}/dropout_range.yaml"],
        ["`dropout` must be in [0, 1)", "high=1.5", "dropout_range.yaml"],
    ),
    "space searched corner breaks relation": (
        ["search", "--space", "{tmp}/steps_corner.yaml"],
        ["`eval_every <= max_steps` must hold", "at every searched value", "max_steps=10 (searched)"],
    ),
    "space searched batch corner": (
        ["search", "--space", "{tmp}/batch_corner.yaml", "--no-baseline"],
        ["`batch_size` must be 0", "batch_size=1 (searched)"],
    ),
    "space fixed out of range": (
        ["search", "--space", "{tmp}/fixed_range.yaml"],
        ["`depth` must be >= 1, but got 0", "fixed_range.yaml: fixed.depth"],
    ),
    "smoke test drops set depth": (["search", "--smoke-test", "--set", "depth=4"], ["--smoke-test", "depth=4"]),
    "smoke test drops set max_steps": (
        ["search", "--smoke-test", "--set", "max_steps=50"],
        ["--smoke-test", "max_steps=50", "at most 4"],
    ),
    "pretrain smoke test drops set": (
        ["pretrain", "--smoke-test", "--set", "embed_dim=64"],
        ["--smoke-test", "embed_dim=64"],
    ),
    "multi objective with asha": (
        ["search", "--multi-objective", "seconds", "--scheduler", "asha"],
        ["--multi-objective seconds", "--scheduler asha", "fifo"],
    ),
    "storage path is a file": (
        ["search", "--storage-path", "{tmp}/a_file"],
        ["--storage-path must be a folder", "a_file"],
    ),
    "storage path under a file": (
        ["search", "--storage-path", "{tmp}/a_file/runs"],
        ["--storage-path must be a folder", "a_file/runs"],
    ),
    "probe search storage path is a file": (
        ["probe", "{tmp}/good.pt", "--search", "--storage-path", "{tmp}/a_file"],
        ["--storage-path must be a folder"],
    ),
    "tensorboard port too large": (
        ["tensorboard", "{tmp}/not_an_experiment", "--port", "70000"],
        ["--port must be in [1, 65535], but got 70000"],
    ),
    "tensorboard port zero": (
        ["tensorboard", "{tmp}/not_an_experiment", "--port", "0"],
        ["--port must be in [1, 65535]"],
    ),
    "tensorboard port not int": (
        ["tensorboard", "{tmp}/not_an_experiment", "--port", "http"],
        ["--port", "invalid int"],
    ),
    "probe finetune lr zero": (
        ["probe", "{tmp}/good.pt", "--finetune-lr", "0"],
        ["`finetune_lr` must be > 0", "--finetune-lr"],
    ),
    "probe finetune epochs zero": (
        ["probe", "{tmp}/good.pt", "--finetune-epochs", "0"],
        ["`finetune_epochs` must be >= 1", "--finetune-epochs"],
    ),
    "pretrain config nested list": (
        ["pretrain", "--config", "{tmp}/config_nested.yaml"],
        ["`depth` must be a number, string or bool", "[2, [3]]", "config_nested.yaml"],
    ),
    "pretrain config block is a list": (
        ["pretrain", "--config", "{tmp}/config_block_list.yaml"],
        ["must be a mapping", "got list"],
    ),
    "pretrain config out of range": (
        ["pretrain", "--config", "{tmp}/config_range.yaml"],
        ["`corruption_rate` must be in (0, 1)", "1.5", "config_range.yaml"],
    ),
    "pretrain config relation": (
        ["pretrain", "--config", "{tmp}/config_relation.yaml"],
        ["`eval_every <= max_steps` must hold", "config_relation.yaml"],
    ),
    "pretrain set objective as list": (
        ["pretrain", "--set", "objective=[emix]"],
        ["`objective` must be a number, string"],
    ),
}


def _objective_of(name: str) -> str:
    """An objective whose settings include `name` (emix when every objective has it)."""
    from dataclasses import fields

    from dabs_lib.objectives import OBJECTIVES

    for objective, cls in sorted(OBJECTIVES.items()):
        if name in {f.name for f in fields(cls.Config)}:
            return objective
    return "emix"


def _bad_values(rule) -> list:
    """A value just outside each bound of `rule`, or one outside its choices."""
    if rule.choices is not None:
        return ["bogus"]
    out = []
    if rule.low is not None:
        out.append(rule.low if rule.low_open else rule.low - 1)
    if rule.high is not None:
        out.append(rule.high if rule.high_open else rule.high + 1)
    return out


def _rule_cases() -> dict:
    """Every setting's every bound, through `search --set` and `pretrain --set` (dabs_lib.settings_rules)."""
    from dabs_lib.settings_rules import RULES

    cases = {}
    for name, rule in RULES.items():
        objective = _objective_of(name)
        for value in _bad_values(rule):
            expected = [f"`{name}` must be {rule.text()}", f"but got {value!r}"]
            cases[f"search {name}={value}"] = (
                ["search", "--objective", objective, "--set", f"{name}={value}"],
                expected,
            )
            cases[f"pretrain {name}={value}"] = (
                ["pretrain", "--objective", objective, "--set", f"{name}={value}"],
                expected + ["in --set"],
            )
    return cases


CASES.update(_rule_cases())


def _write_checkpoints(tmp: Path) -> None:
    import torch

    from dabs_lib.checkpoints import save_encoder
    from dabs_lib.config import config_from_dict
    from dabs_lib.domains import get_domain
    from dabs_lib.initial import initial_encoder

    config = config_from_dict({"domain": "digits", "objective": "shed", "smoke_test": True})
    encoder = initial_encoder(config, get_domain("digits", smoke=True))
    good = save_encoder(tmp / "good.pt", encoder, {"config": config.to_dict()})
    data = good.read_bytes()
    (tmp / "truncated.pt").write_bytes(data[: len(data) // 2])
    torch.save({"weights": torch.zeros(3)}, tmp / "foreign.pt")
    torch.save({"format_version": 1, "hook": Path("x")}, tmp / "code.pt")  # needs a pickled class


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("bad-input")
    for name, text in FILES.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(text)
    _write_checkpoints(tmp)
    return tmp


def test_catalog_has_at_least_110_cases():
    assert len(CASES) >= 110


def test_catalog_covers_every_setting_rule():
    from dabs_lib.settings_rules import RULES

    covered = {argv[-1].split("=")[0] for argv, _ in CASES.values() if "--set" in argv}
    assert set(RULES) <= covered


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(case, workdir, capsys, monkeypatch):
    argv, expected = CASES[case]
    argv = [a.replace("{tmp}", str(workdir)) for a in argv]
    monkeypatch.chdir(workdir)  # the default storage (./runs) and report (./reports) folders live here
    monkeypatch.setenv("RAY_ADDRESS", "")  # never join a cluster by accident
    before = _snapshot(workdir)
    try:
        code = run_search.main(argv)
    except SystemExit as exit_:  # argparse
        code = exit_.code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    for fragment in expected:
        assert fragment.replace("{tmp}", str(workdir)) in lines[0], (fragment, lines[0])
    assert "Traceback" not in err
    assert _snapshot(workdir) == before, "bad input must write nothing"
    import ray

    assert not ray.is_initialized(), "bad input is refused before Ray starts"


def test_exponents_without_a_dot_are_numbers():
    """YAML 1.1 reads `1e-3` as a string; `--set lr=1e-3` must still mean 0.001, not a type error."""
    from cli.errors import parse_set

    assert parse_set(["lr=1e-3", "max_steps=300", "x=-2.5E+4", "name=run1e3"]) == {
        "lr": 1e-3,
        "max_steps": 300,
        "x": -2.5e4,
        "name": "run1e3",
    }
