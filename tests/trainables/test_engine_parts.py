"""The engine's parts on their own, without starting Ray: the per-study scheduler with the real
ASHA, the multiplexing searcher on a real Optuna journal (seeds, order, resume), experiment names."""

from __future__ import annotations

import os
import pickle
import random
import subprocess
import sys
from pathlib import Path

import pytest
from ray.tune.schedulers import ASHAScheduler, TrialScheduler

from dabs_lib.experiment import ERROR_ATTR, FINAL, TRIAL_NUMBER, WARM_ATTR, check_name, error_line, load_study
from tests.trainables.helpers import tiny_request
from trainables.optuna_search import ORPHAN, MultiStudySearcher, study_seed
from trainables.schedulers import PerStudyScheduler
from trainables.search import load_plans


class FakeTrial:
    """What a scheduler reads of a Tune trial: its id, config and status."""

    def __init__(self, trial_id: str, study: str):
        self.trial_id, self.config, self.status = trial_id, {"study": study}, "RUNNING"


class FakeController:
    """Tune's controller as a scheduler sees it: its list of every trial, and its live ones (a
    set, no order: those not terminated)."""

    def __init__(self, trials):
        self.trials = trials

    def get_trials(self):
        return self.trials

    def get_live_trials(self):
        return {t for t in reversed(self.trials) if t.status != "TERMINATED"}


def _run_rungs(scheduler, controller, high: list, low: FakeTrial) -> list[str]:
    """Trials of the high-scoring study reach every rung first; then the low study's trial reports."""
    for trial in [*high, low]:
        scheduler.on_trial_add(controller, trial)
    decisions = []
    for iteration in (1, 2, 3):
        for trial in high:
            scheduler.on_trial_result(controller, trial, {"training_iteration": iteration, "transfer/val": 0.9})
        decisions.append(
            scheduler.on_trial_result(controller, low, {"training_iteration": iteration, "transfer/val": 0.1})
        )
    return decisions


def test_a_low_scoring_study_is_not_pruned_by_another_studys_rungs():
    high = [FakeTrial(f"t{i}", "tabular-emix") for i in range(3)]
    low = FakeTrial("d0", "digits-emix")
    controller = FakeController([*high, low])
    per_study = PerStudyScheduler("asha", {"tabular-emix": 4, "digits-emix": 4})
    per_study.set_search_properties("transfer/val", "max")
    assert _run_rungs(per_study, controller, high, low) == [TrialScheduler.CONTINUE] * 3
    # the same trials under one shared ASHA: the low study's trial is cut at the first rung
    shared = ASHAScheduler(
        time_attr="training_iteration", max_t=4, grace_period=1, reduction_factor=2, metric="transfer/val", mode="max"
    )
    assert _run_rungs(shared, controller, high, low)[0] == TrialScheduler.STOP


def _warm_case(prune_warm: bool) -> tuple[list[str], list[str]]:
    """Three trials score 0.9 at every rung; then a --warm-start trial (number 3) and a sampled one
    (number 4) score 0.1: ASHA cuts both at the first rung. Returns each one's decisions."""
    high = [FakeTrial(f"t{i}", "sensor-mae") for i in range(3)]
    warm, sampled = FakeTrial("w", "sensor-mae"), FakeTrial("s", "sensor-mae")
    for number, trial in enumerate([*high, warm, sampled]):
        trial.config[TRIAL_NUMBER] = number
    scheduler = PerStudyScheduler("asha", {"sensor-mae": 4}, prune_warm=prune_warm)
    scheduler.set_search_properties("transfer/val", "max")
    scheduler.mark_warm("sensor-mae", 3)
    scheduler = pickle.loads(pickle.dumps(scheduler))  # Tune pickles it with the experiment
    controller = FakeController([*high, warm, sampled])
    for trial in controller.trials:
        scheduler.on_trial_add(controller, trial)
    decisions: dict[str, list[str]] = {"w": [], "s": []}
    for iteration in (1, 2, 3):
        for trial in high:
            scheduler.on_trial_result(controller, trial, {"training_iteration": iteration, "transfer/val": 0.9})
        for trial in (warm, sampled):
            result = {"training_iteration": iteration, "transfer/val": 0.1}
            decisions[trial.trial_id].append(scheduler.on_trial_result(controller, trial, result))
    return decisions["w"], decisions["s"]


def test_a_warm_start_config_runs_its_full_budget_and_prune_warm_cuts_it_like_any_trial():
    warm, sampled = _warm_case(prune_warm=False)
    assert warm == [TrialScheduler.CONTINUE] * 3  # ASHA said STOP; the warm config's STOP is overruled
    assert sampled[0] == TrialScheduler.STOP
    warm, sampled = _warm_case(prune_warm=True)
    assert warm[0] == TrialScheduler.STOP and sampled[0] == TrialScheduler.STOP


def test_hyperband_judges_a_warm_config_like_any_other():
    """HyperBand's brackets stop trials together: overruling one STOP would leave a trial its bracket dropped."""
    scheduler = PerStudyScheduler("hyperband", {"sensor-mae": 4})
    scheduler.mark_warm("sensor-mae", 2)
    trial = FakeTrial("w", "sensor-mae")
    trial.config[TRIAL_NUMBER] = 2
    assert not scheduler._keeps(trial, {"training_iteration": 1})


def test_the_warm_marks_survive_the_schedulers_saved_state():
    scheduler = PerStudyScheduler("asha", {"sensor-mae": 4})
    scheduler.mark_warm("sensor-mae", 2)
    restored = PerStudyScheduler("asha", {"sensor-mae": 4})
    restored.set_state(pickle.loads(pickle.dumps(scheduler.get_state())))
    trial = FakeTrial("w", "sensor-mae")
    trial.config[TRIAL_NUMBER] = 2
    assert restored._keeps(trial, {"training_iteration": 1})
    assert not restored._keeps(trial, {"training_iteration": 4, FINAL: True})  # its end is its own


def test_the_searcher_marks_warm_start_configs_for_the_scheduler_and_the_dashboard(tmp_path):
    import dataclasses

    request = tiny_request(tmp_path, domains=("digits",), objectives=("emix",), baseline=False, seed=0)
    plans, max_t = load_plans(request)
    warm = ({"lr": 3e-3}, {"lr": 2e-4, "weight_decay": 1e-3})
    plans = [dataclasses.replace(p, warm=warm) for p in plans]
    (tmp_path / "exp").mkdir()
    searcher = MultiStudySearcher(plans, str(tmp_path / "exp" / "optuna.journal"), "transfer/val", "max", "tpe", 0)
    scheduler = PerStudyScheduler("asha", max_t)
    searcher.attach(scheduler)
    configs = _suggest_all(searcher, 4)
    assert [c["lr"] for c in configs[1:3]] == pytest.approx([3e-3, 2e-4])
    assert scheduler._warm == {("digits-emix", 1), ("digits-emix", 2)}  # not the default (0), not sampled (3)
    study = load_study(tmp_path / "exp", "digits", "emix")
    assert [t.user_attrs.get(WARM_ATTR, False) for t in study.trials] == [False, True, True, False]


def test_per_study_scheduler_chooses_pending_trials_in_creation_order():
    trials = [FakeTrial("a", "digits-emix"), FakeTrial("b", "tabular-emix")]
    for trial in trials:
        trial.status = "PENDING"
    scheduler = PerStudyScheduler("asha", {"digits-emix": 4, "tabular-emix": 4})
    scheduler.set_search_properties("transfer/val", "max")
    controller = FakeController(trials)
    for trial in trials:  # Tune calls on_trial_add as it appends a trial to its list
        scheduler.on_trial_add(controller, trial)
    assert scheduler.choose_trial_to_run(controller) is trials[0]
    trials[0].status = "RUNNING"
    assert scheduler.choose_trial_to_run(controller) is trials[1]


@pytest.mark.parametrize("seed", range(5))
def test_per_study_choice_is_each_studys_fifo_choice_then_creation_order(seed):
    """The one-pass choice over startable trials equals the definition: each study's FIFO choice
    (its first pending trial, else its first paused one) over all of its trials, then the
    earliest created of those."""
    draw = random.Random(seed)
    studies = ["digits-emix", "tabular-emix", "digits-shed"]
    trials = [FakeTrial(f"t{i}", draw.choice(studies)) for i in range(60)]
    for trial in trials:
        trial.status = draw.choice(["PENDING", "PAUSED", "RUNNING", "TERMINATED", "ERROR"])
    scheduler = PerStudyScheduler("asha", dict.fromkeys(studies, 4))
    scheduler.set_search_properties("transfer/val", "max")
    controller = FakeController(trials)
    for trial in trials:
        scheduler.on_trial_add(controller, trial)

    def fifo(mine: list) -> object:
        return next((t for t in mine if t.status == "PENDING"), None) or next(
            (t for t in mine if t.status == "PAUSED"), None
        )

    per_study = [fifo([t for t in trials if t.config["study"] == name]) for name in studies]
    expected = min((t for t in per_study if t is not None), key=trials.index, default=None)
    assert scheduler.choose_trial_to_run(controller) is expected


def _searcher(tmp_path, seed: int, name: str = "exp") -> MultiStudySearcher:
    request = tiny_request(tmp_path, domains=("digits", "tabular"), objectives=("emix",), baseline=True, seed=seed)
    plans, _ = load_plans(request)
    (tmp_path / name).mkdir(exist_ok=True)
    return MultiStudySearcher(plans, str(tmp_path / name / "optuna.journal"), "transfer/val", "max", "tpe", seed)


def _suggest_all(searcher: MultiStudySearcher, count: int) -> list[dict]:
    return [searcher.suggest(f"trial{i}") for i in range(count)]


def test_baselines_first_then_balanced_and_the_default_is_trial_zero(tmp_path):
    configs = _suggest_all(_searcher(tmp_path, 0), 7)
    assert [c["study"] for c in configs[:2]] == ["digits-none", "tabular-none"]
    searched = [c["study"] for c in configs[2:6]]
    assert searched == ["digits-emix", "tabular-emix", "digits-emix", "tabular-emix"]  # round robin
    assert [c["trial_number"] for c in configs[2:6]] == [0, 0, 1, 1]
    for config in configs[2:4]:
        assert config["lr"] == pytest.approx(1e-4) and config["weight_decay"] == pytest.approx(1e-4)


def test_seeds_differ_per_study_and_the_same_seed_reproduces_the_first_draws(tmp_path):
    assert len({study_seed(0, d, o) for d in ("digits", "tabular") for o in ("emix", "shed")}) == 4
    other_process = subprocess.run(  # another hash seed: Python's hash() would differ, the study seed must not
        [
            sys.executable,
            "-c",
            "from trainables.optuna_search import study_seed; print(study_seed(0, 'digits', 'emix'))",
        ],
        env={**os.environ, "PYTHONHASHSEED": "123"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(other_process.stdout) == study_seed(0, "digits", "emix")
    first = _suggest_all(_searcher(tmp_path, 0, "a"), 8)[4:8]  # trial 1 and 2 of each study: sampled
    again = _suggest_all(_searcher(tmp_path, 0, "b"), 8)[4:8]
    other = _suggest_all(_searcher(tmp_path, 1, "c"), 8)[4:8]
    assert first == again
    assert [c["lr"] for c in first] != [c["lr"] for c in other]
    assert first[0]["lr"] != first[1]["lr"]  # digits and tabular draw differently


def test_restore_closes_trials_tune_never_saw_and_keeps_the_counts(tmp_path):
    searcher = _searcher(tmp_path, 0)
    _suggest_all(searcher, 4)  # both baselines, trial 0 of both studies
    searcher.save(str(tmp_path / "state.pkl"))
    lost = searcher.suggest("lost")  # asked after the snapshot: a killed driver loses it
    assert lost["study"] == "digits-emix" and lost["trial_number"] == 1
    restored = _searcher(tmp_path, 0)
    restored.restore(str(tmp_path / "state.pkl"))
    trial = load_study(tmp_path / "exp", "digits", "emix").trials[1]
    assert trial.state.name == "FAIL" and trial.user_attrs[ERROR_ATTR] == ORPHAN
    again = restored.suggest("again")
    assert (again["study"], again["trial_number"]) == ("digits-emix", 2)  # a new trial replaces it
    restored.on_trial_complete("trial2", {"transfer/val": 0.5, "final": True, "training_iteration": 1})
    assert load_study(tmp_path / "exp", "digits", "emix").trials[0].state.name == "COMPLETE"


@pytest.mark.parametrize("name", ["a/b", "../escape", "a/../../escape", "..", ".", "", ".hidden", "a\\b"])
def test_experiment_names_are_one_folder(name):
    with pytest.raises(ValueError, match="--name must be one folder name"):
        check_name(name)


def test_error_line_is_the_last_failures_exception():
    text = (
        'Failure # 1 (occurred at 2026-11-28_01:00:00)\nray::ImplicitFunc.train()\n  File "x.py"\n'
        "ValueError: first\nFailure # 2 (occurred at 2026-11-28_01:00:09)\nray::ImplicitFunc.train()\n"
        '  File "x.py", line 3\nValueError: embed_dim must be divisible by num_heads\n\n'
    )
    assert error_line(text) == "ValueError: embed_dim must be divisible by num_heads"


RAY_MEMORY_KILL = (  # the shape of Ray 2.60's OutOfMemoryError text, as error.txt holds it
    "1 worker(s) were killed due to the node running low on memory. Memory on the node (IP: 127.0.0.1, "
    "ID: ab12) was 21.77GB used / 23.54GB limit (0.924604)\nOOM kill reason: Memory usage 24071446528B "
    "exceeded threshold\nTop 10 memory users: PID\tMEM(GB)\tCOMMAND\nRefer to the documentation on how "
    "to address the out of memory issue: https://docs.ray.io/en/latest/"
)


def test_a_memory_kill_is_named_by_its_own_line_not_the_docs_link():
    line = error_line(f"Failure # 1 (occurred at 2026-12-06_21-19-19)\n{RAY_MEMORY_KILL}\n")
    assert line.startswith("1 worker(s) were killed due to the node running low on memory. Memory on the node")
    assert line.endswith("; free memory or lower --max-concurrent") and "docs.ray.io" not in line


def test_a_tune_run_ended_by_a_memory_kill_becomes_one_resumable_line():
    from ray.exceptions import OutOfMemoryError

    from trainables.runner import SearchStopped, memory_kill, stopped_by_memory

    try:  # what Tune's actor manager raises when the kill hits an actor it is starting
        try:
            raise OutOfMemoryError(RAY_MEMORY_KILL)
        except OutOfMemoryError as kill:
            raise RuntimeError(f"Caught unexpected exception: {kill}") from kill
    except RuntimeError as error:
        tune_error = error
    assert memory_kill(tune_error) == RAY_MEMORY_KILL.splitlines()[0].rstrip(".")
    stopped = stopped_by_memory(tune_error, "/runs/x")
    assert isinstance(stopped, SearchStopped) and "\n" not in str(stopped)
    assert "21.77GB used / 23.54GB limit" in str(stopped) and str(stopped).endswith("resume /runs/x`")
    assert str(pickle.loads(pickle.dumps(stopped))) == str(stopped)  # crosses Ray workers
    assert stopped_by_memory(RuntimeError("something else"), "/runs/x") is None
    import argparse

    import run_search

    assert run_search._fault_line(stopped, argparse.Namespace()) == str(stopped)  # the CLI's one line, exit 1


def test_multi_objective_studies_get_both_values(tmp_path):
    request = tiny_request(tmp_path, multi_objective="seconds")
    plans, _ = load_plans(request)
    (tmp_path / "mo").mkdir()
    searcher = MultiStudySearcher(
        plans, str(tmp_path / "mo" / "optuna.journal"), ["transfer/val", "seconds"], ["max", "min"], "nsga2", 0
    )
    first, second = searcher.suggest("a"), searcher.suggest("b")
    searcher.on_trial_complete("a", {"transfer/val": 0.7, "seconds": 3.0, "final": True, "training_iteration": 4})
    searcher.on_trial_complete("b", {"transfer/val": 0.6, "seconds": 1.0, "training_iteration": 2})
    study = load_study(tmp_path / "mo", "digits", "emix")
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert study.trials[0].values == [0.7, 3.0] and study.trials[1].state.name == "PRUNED"
    assert first["lr"] == pytest.approx(1e-4) and second["trial_number"] == 1


def test_trial_resources_follow_the_trial_config():
    from trainables.search import TrialResources, trainable_for

    mixed = tiny_request(Path("."), domains=("cifar10_small", "digits"), gpus_per_trial=0.25)
    resources = trainable_for(mixed)._resources  # what tune.with_resources stored: our function
    assert isinstance(resources, TrialResources)
    assert resources({"domain": "cifar10_small"}) == {"cpu": 1.0, "gpu": 0.25}  # four trials per GPU
    assert resources({"domain": "digits"}) == {"cpu": 1.0, "gpu": 0.0}  # embedded: on CPU beside them
    only_embedded = trainable_for(tiny_request(Path("."), gpus_per_trial=0.5))._resources
    assert only_embedded({"domain": "digits"}) == {"cpu": 1.0, "gpu": 0.5}


def test_every_study_of_a_searcher_reads_one_journal_storage(tmp_path):
    """One JournalStorage for all studies: each replays every new journal line before a read, so
    one per study parsed each line once per study (bench/searcher_scale.py). Restored, it opens again."""
    searcher = _searcher(tmp_path, 0, "shared")
    configs = _suggest_all(searcher, 3)
    studies = {config["study"] for config in configs}
    assert len(studies) == 3  # both baselines, then digits-emix
    storages = {id(searcher.study(name)._storage) for name in studies}
    assert storages == {id(searcher.storage())}
    path = tmp_path / "searcher.pkl"
    searcher.save(str(path))
    restored = _searcher(tmp_path, 0, "shared")
    restored.restore(str(path))
    assert restored.storage() is not searcher.storage()
    assert {t.number for t in restored.study(next(iter(studies))).trials} == {0}


def _run_one(searcher: MultiStudySearcher, trial_id: str, score: float) -> dict:
    config = searcher.suggest(trial_id)
    searcher.on_trial_complete(trial_id, {"transfer/val": score, "final": True, "training_iteration": 1})
    return config


def test_a_resumed_study_never_repeats_a_configuration(tmp_path):
    """The resumed digits_emix_002 had digits_emix_001's params: a sampler re-made on resume with
    the search's first seed draws the interrupted run's first points again."""
    searcher = _searcher(tmp_path, 0)
    before = [_run_one(searcher, f"t{i}", 0.1 * i) for i in range(6)]  # baselines, then 2 trials per study
    searcher.save(str(tmp_path / "state.pkl"))
    restored = _searcher(tmp_path, 0)
    restored.restore(str(tmp_path / "state.pkl"))
    after = [_run_one(restored, f"r{i}", 0.5) for i in range(6)]
    searched = [c for c in before + after if "lr" in c and c["trial_number"] > 0]
    points = [(c["study"], c["lr"], c["weight_decay"]) for c in searched]
    assert len(points) == len(set(points)), points
    numbers = [(c["study"], c["trial_number"]) for c in after]
    assert len(set(numbers)) == len(numbers) and all(n >= 2 for _, n in numbers)
    assert study_seed(0, "digits", "emix") == study_seed(0, "digits", "emix", number=0)  # trial 0 keeps its seed


def test_a_trial_an_interrupt_stopped_is_not_counted_as_pruned():
    """Tune ends an interrupted run by stopping every live trial (TERMINATED, no final result,
    no on_trial_complete): the resume continues it, so it is not 'pruned'."""
    from types import SimpleNamespace

    from trainables.progress import overall_line, trial_state

    pruned = SimpleNamespace(
        status="TERMINATED",
        last_result={"time_total_s": 1.0},
        trial_id="a",
        config={"domain": "digits", "objective": "emix"},
    )
    stopped = SimpleNamespace(
        status="TERMINATED",
        last_result={"time_total_s": 1.0},
        trial_id="b",
        config={"domain": "digits", "objective": "emix"},
    )
    assert trial_state(pruned, {"a"}) == "pruned" and trial_state(stopped, {"a"}) == "running"
    assert overall_line([pruned, stopped], 4, 10.0, {"a"}).startswith("overall: 0 finished, 1 running, 1 pruned")


def test_a_resumed_search_still_counts_the_trials_pruned_before_it(tmp_path):
    """Tune snapshots the printer's state with the experiment and gives it back on resume (its own
    CallbackList code): a trial the scheduler stopped before the interrupt stays 'pruned'."""
    from types import SimpleNamespace

    from ray.tune.callback import CallbackList

    from trainables.progress import ProgressPrinter, overall_line

    before = ProgressPrinter(total=2)
    before.completed.add("a")
    before.best["digits/emix"] = 0.5
    CallbackList([before]).save_to_dir(str(tmp_path), session_str="s1")
    after = ProgressPrinter(total=2)  # what tuner.pkl gives back: the printer as the search started
    callbacks = CallbackList([after])
    assert callbacks.can_restore(str(tmp_path))
    callbacks.restore_from_dir(str(tmp_path))
    pruned = SimpleNamespace(
        status="TERMINATED", last_result={"time_total_s": 1.0}, trial_id="a", config={"domain": "digits"}
    )
    assert after.best == {"digits/emix": 0.5}
    assert overall_line([pruned], 2, 1.0, after.completed).startswith("overall: 0 finished, 0 running, 1 pruned")


def test_trials_that_ended_before_a_resume_count_though_tunes_list_no_longer_holds_them(tmp_path):
    """A resume sets the finished trials aside from Tune's trial list (trainables/tune_state.py):
    the printer's own ledger, snapshotted with the experiment, still counts them and their times."""
    from types import SimpleNamespace

    from ray.tune.callback import CallbackList

    from trainables.progress import ProgressPrinter

    def trial(trial_id: str, status: str, final: bool, seconds: float = 100.0) -> SimpleNamespace:
        result = {"time_total_s": seconds, "final": final}
        config = {"domain": "digits", "objective": "emix"}
        return SimpleNamespace(
            status=status, last_result=result, trial_id=trial_id, config=config, path="", local_path=""
        )

    before = ProgressPrinter(total=5)
    before.on_trial_complete(0, [], trial("a", "RUNNING", final=True))  # Tune sets the status after its callbacks
    before.on_trial_complete(0, [], trial("b", "RUNNING", final=False))
    before.on_trial_error(0, [], trial("c", "RUNNING", final=False))
    CallbackList([before]).save_to_dir(str(tmp_path), session_str="s1")
    after = ProgressPrinter(total=5)
    CallbackList([after]).restore_from_dir(str(tmp_path))
    lines: list[str] = []
    after._say = lambda study, text: lines.append(text)  # type: ignore[method-assign]
    retried = trial("c", "PENDING", final=False)  # an errored trial the resume runs again: Tune's state wins
    after.on_experiment_end([trial("d", "RUNNING", final=False), retried])
    assert lines[-1].startswith("overall: 1 finished, 1 running, 1 pruned, 0 errored of 5 trials"), lines
    assert "ETA 5m00s" in lines[-1]  # 3 left (pending counts as left) x 100 s / 1 running


def test_the_eta_leaves_out_baselines_once_a_searched_trial_ended():
    """A random-init baseline only probes (seconds): averaged in, the first ETAs were minutes for hours."""
    from types import SimpleNamespace

    from trainables.progress import overall_line

    def trial(objective: str, seconds: float, status: str = "TERMINATED") -> SimpleNamespace:
        result = {"time_total_s": seconds, "final": True}
        return SimpleNamespace(
            status=status, last_result=result, trial_id=objective, config={"domain": "d", "objective": objective}
        )

    baseline, searched, running = trial("none", 2.0), trial("emix", 100.0), trial("shed", 5.0, "RUNNING")
    assert "ETA 16m40s" in overall_line([baseline, searched, running], 12, 60.0)  # 10 left x 100 s / 1 running
    assert "ETA 0m22s" in overall_line([baseline, running], 12, 60.0)  # only a baseline ended: 11 left x 2 s


@pytest.mark.parametrize("start_fails", [False, True])
def test_a_ctrl_c_while_ray_starts_is_raised_once_started_or_failed(start_fails):
    """Ray's start-up code swallows a KeyboardInterrupt raised inside it: the SIGINT is noted and
    raised after the start, also when the start then fails (no retry after a Ctrl-C)."""
    import signal

    from trainables.cluster import _sigint_after

    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with _sigint_after():
            os.kill(os.getpid(), signal.SIGINT)  # handled at once: only noted
            if start_fails:
                raise RuntimeError("The current node timed out during startup.")
    assert signal.getsignal(signal.SIGINT) is before


def test_tunes_signal_handlers_are_removed_when_the_session_ends():
    """Tune's fit leaves its SIGINT handler (a Ctrl-C only logs) in the caller's Python session."""
    import signal

    from ray.tune.tune import _setup_signal_catching  # what Tuner.fit installs

    from trainables.cluster import TUNE_SIGNALS, _signal_handlers_kept

    before = {signum: signal.getsignal(signum) for signum in TUNE_SIGNALS}
    with _signal_handlers_kept():
        _setup_signal_catching()
        assert signal.getsignal(signal.SIGINT) is not before[signal.SIGINT]
    assert {signum: signal.getsignal(signum) for signum in TUNE_SIGNALS} == before


def test_each_trial_is_seeded_by_the_number_ask_gives_it_queued_ones_too():
    """A queued trial (the default, --warm-start configs) is asked first: the seed comes from its own
    number (not the count of trials), so two queued partial configs are not filled with one draw."""
    import optuna

    from trainables.optuna_search import _next_number

    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    study.enqueue_trial({"x": 1.0})
    study.enqueue_trial({"x": 2.0})
    numbers = []
    for _ in range(3):
        numbers.append(_next_number(study))
        assert study.ask().number == numbers[-1]
    assert numbers == [0, 1, 2]


def test_the_disk_guard_counts_running_trials_as_they_start_and_end(tmp_path):
    """The space a next round of checkpoints needs counts the running trials, kept as trials start
    and end: the guard never reads Tune's list of every trial (given empty here)."""
    from dabs_lib.safe_io import DiskFullError, free_bytes
    from trainables.disk_guard import DiskGuard

    trials = [FakeTrial(f"t{i}", "digits-emix") for i in range(3)]
    for trial in trials:
        trial.checkpoint, trial.error_file = None, None
    guard = DiskGuard(str(tmp_path), margin=0)
    for trial in trials:
        guard.on_trial_start(0, [], trial)
    guard.on_trial_complete(0, [], trials[0])
    guard.on_trial_error(0, [], trials[1])
    assert guard.running == {"t2"}
    guard.on_trial_result(0, [], trials[2], {})  # room enough
    guard.largest = int(free_bytes(str(tmp_path)) * 0.6)  # one checkpoint of this size fits, two do not
    guard.on_trial_result(0, [], trials[2], {})
    guard.on_trial_start(0, [], trials[0])
    with pytest.raises(DiskFullError):
        guard.on_trial_result(0, [], trials[2], {})


def test_a_disk_guard_pickled_by_an_older_release_resumes():
    """Tune restores callbacks from the experiment's tuner.pkl: one pickled before `running` existed."""
    import pickle

    from trainables.disk_guard import DiskGuard

    old = DiskGuard("/tmp/x", margin=7)
    del old.running
    restored = pickle.loads(pickle.dumps(old))
    assert (restored.storage, restored.margin, restored.running) == ("/tmp/x", 7, set())
    restored.on_trial_start(0, [], FakeTrial("t0", "digits-emix"))
    assert restored.running == {"t0"}


def test_a_scheduler_pickled_by_an_older_release_resumes():
    """Tune restores the scheduler from the experiment's tuner.pkl: one pickled before `_added` existed."""
    import pickle

    old = PerStudyScheduler("asha", {"digits-emix": 4})
    old.set_search_properties("transfer/val", "max")
    del old._added
    restored = pickle.loads(pickle.dumps(old))
    trial = FakeTrial("t0", "digits-emix")
    trial.status = "PENDING"
    restored.on_trial_add(FakeController([trial]), trial)
    assert restored.choose_trial_to_run(FakeController([trial])) is trial
