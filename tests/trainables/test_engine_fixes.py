"""Engine defects found after the multi-study engine landed, each checked on the path a user takes:
a diverged trial's NaN in the journal, `resume`'s data preflight, `--schedule-timeout`."""

from __future__ import annotations

import dataclasses
import math
import re
import shutil

import pytest
import ray

import run_search
from dabs_lib.divergence import DIVERGED_KEY
from dabs_lib.experiment import load_study
from tests.trainables.helpers import tiny_request
from trainables.optuna_search import MultiStudySearcher
from trainables.search import load_plans


def test_a_diverged_trial_ends_on_a_nan_value_that_tpe_ranks_worst(tmp_path):
    """README: a diverged trial is PRUNED and TPE ranks it worst (Optuna ranks a pruned trial by its
    last intermediate value, a NaN last). Without the NaN it would rank by its earlier, better score."""
    from optuna.samplers._tpe.sampler import _get_pruned_trial_score

    plans, _ = load_plans(tiny_request(tmp_path))
    (tmp_path / "exp").mkdir()
    searcher = MultiStudySearcher(plans, str(tmp_path / "exp" / "optuna.journal"), "transfer/val", "max", "tpe", 0)
    searcher.suggest("diverged"), searcher.suggest("stopped")
    searcher.on_trial_result("diverged", {"transfer/val": 0.9, "training_iteration": 1})
    searcher.on_trial_result("stopped", {"transfer/val": 0.2, "training_iteration": 1})
    # the diverged trial's last report, as trainables.pretrain_transfer.report_divergence sends it
    searcher.on_trial_complete(
        "diverged", {"transfer/val": math.nan, DIVERGED_KEY: "diverged at step 3: loss=nan", "training_iteration": 2}
    )
    searcher.on_trial_complete("stopped", {"transfer/val": 0.1, "training_iteration": 2})  # ASHA stopped it
    study = load_study(tmp_path / "exp", "digits", "emix")
    diverged, stopped = study.trials
    assert diverged.state.name == stopped.state.name == "PRUNED"
    assert diverged.intermediate_values[1] == 0.9 and math.isnan(diverged.intermediate_values[2])
    assert diverged.user_attrs[DIVERGED_KEY] == "diverged at step 3: loss=nan"
    ranked = sorted(study.trials, key=lambda t: _get_pruned_trial_score(t, study))  # best first
    assert [t.number for t in ranked] == [stopped.number, diverged.number]


def test_an_infinite_score_is_kept_as_nan_not_as_the_best_value(tmp_path):
    plans, _ = load_plans(tiny_request(tmp_path))
    (tmp_path / "exp").mkdir()
    searcher = MultiStudySearcher(plans, str(tmp_path / "exp" / "optuna.journal"), "transfer/val", "max", "tpe", 0)
    searcher.suggest("a")
    searcher.on_trial_complete("a", {"transfer/val": math.inf, DIVERGED_KEY: "diverged", "training_iteration": 1})
    trial = load_study(tmp_path / "exp", "digits", "emix").trials[0]
    assert trial.state.name == "PRUNED" and math.isnan(trial.intermediate_values[1])


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_resume_without_the_data_stops_before_ray_with_the_search_line(tmp_path, monkeypatch, capsys):
    """A real-domain search whose data folder vanished before `resume`: the line `search` prints, exit
    2, before Ray starts, nothing written. The experiment is what a driver killed before its first
    trial leaves: the manifest the runner writes before Ray starts (no Tune state yet)."""
    from cli.parser import build_parser
    from cli.search_cmd import request_from_args, validate
    from tests.dabs_lib.datasets.miniature import write_cifar
    from trainables.outcome import new_manifest, write_manifest
    from trainables.runner import experiment_uri

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DABS_DATA_ROOT", raising=False)
    write_cifar(tmp_path / "data")
    argv = [
        "search",
        "--domain",
        "cifar10_small",
        "--objective",
        "mae",
        "--num-samples",
        "1",
        "--smoke-test",
        "--storage-path",
        "runs",
        "--name",
        "exp",
    ]
    request = request_from_args(build_parser().parse_args(argv))
    validate(request)  # the data are there when the search starts
    capsys.readouterr()  # its "preprocessing ..." line is not the resume's
    uri = experiment_uri(request, "exp")
    write_manifest(uri, new_manifest("search", dataclasses.asdict(request), load_plans(request)[0]))
    shutil.rmtree(tmp_path / "data")
    monkeypatch.chdir(tmp_path / "runs")  # resumed from elsewhere: the search's data root still applies
    before = sorted(p.name for p in (tmp_path / "runs" / "exp").iterdir())

    assert run_search.main(["resume", str(tmp_path / "runs" / "exp")]) == 2
    resumed = _one_line(capsys.readouterr().err)
    monkeypatch.chdir(tmp_path)
    assert run_search.main([*argv[:-1], "again"]) == 2
    searched = _one_line(capsys.readouterr().err)
    assert resumed == searched and "is missing" in resumed and str(tmp_path / "data" / "cifar10") in resumed
    assert not ray.is_initialized()
    assert sorted(p.name for p in (tmp_path / "runs" / "exp").iterdir()) == before
    assert not (tmp_path / "runs" / "again").exists()


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--schedule-timeout", "0", "--address", "127.0.0.1:1"], "--schedule-timeout must be a positive number"),
        (["--schedule-timeout", "30"], "--schedule-timeout applies to a cluster joined with --address"),
    ],
)
@pytest.mark.parametrize("command", ["search", "resume"])
def test_schedule_timeout_is_checked_in_one_line(command, flags, message, tmp_path, capsys):
    where = ["--storage-path", str(tmp_path), "--name", "x"] if command == "search" else [str(tmp_path / "x")]
    assert run_search.main([command, *where, *flags]) == 2
    assert message in _one_line(capsys.readouterr().err)
    assert not any(tmp_path.iterdir())


def test_schedule_timeout_help_shows_the_one_default(capsys):
    from trainables.limits import SCHEDULE_TIMEOUT_S

    with pytest.raises(SystemExit):
        run_search.main(["search", "--help"])
    assert f"(default: {SCHEDULE_TIMEOUT_S:g})" in re.sub(r"\s+", " ", capsys.readouterr().out)


def test_an_errored_trial_without_a_config_keeps_its_error_line(tmp_path):
    """Ray's Result has no config when the trial's worker died before Tune heard from it (seen when
    Ray's memory monitor killed a probe-search worker): the end of the search still names the trial."""
    from ray.tune import Result

    from trainables.outcome import _error_lines

    died = Result(
        metrics={},
        checkpoint=None,
        error=RuntimeError("Task was killed due to the node running low on memory."),
        path=str(tmp_path / "exp" / "cifar10_small_mae_003"),
    )
    assert _error_lines([died]) == {
        ("cifar10_small-mae", 3): "Task was killed due to the node running low on memory; free memory or lower "
        "--max-concurrent"
    }


def test_a_run_reads_its_journal_through_one_reader_and_only_while_it_runs(tmp_path):
    """The searcher and the end of a run share one JournalStorage (one replay of the journal, not
    one each); outside a run every open gets its own, which sees the file as it is now."""
    import optuna

    from trainables.optuna_search import one_reader, open_journal

    path = str(tmp_path / "optuna.journal")
    with one_reader(path):
        reader = open_journal(path)
        assert open_journal(path) is reader and open_journal(str(tmp_path / "other")) is not reader
        optuna.create_study(study_name="digits-emix", storage=reader).add_trial(
            optuna.trial.create_trial(value=0.5, params={}, distributions={})
        )
    after = open_journal(path)
    assert after is not reader and after is not open_journal(path)
    assert len(after.get_all_trials(after.get_study_id_from_name("digits-emix"))) == 1
