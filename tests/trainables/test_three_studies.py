"""The issue's multiplexing case, literally: three studies over two domains, one domain with two
objectives, of uneven sizes, in one real Tune run (private Ray, MultiStudySearcher +
PerStudyScheduler with ASHA, real Lightning, the experiment's real Optuna journal).

A search request is a cross product (every domain x every objective), so this drives the engine's
two parts directly with the three studies' plans, as trainables.search.build_tuner does."""

from __future__ import annotations

import dataclasses
import json

import pytest
from ray import tune

from dabs_lib.experiment import JOURNAL, METRIC, load_study
from tests.trainables.helpers import study_states, tiny_request, trial_results
from trainables.cluster import ray_session
from trainables.optuna_search import MultiStudySearcher
from trainables.schedulers import PerStudyScheduler
from trainables.search import TrialNamer, load_plans, trainable_for

pytestmark = pytest.mark.slow
STUDIES = {("digits", "emix"): 3, ("digits", "shed"): 2, ("tabular", "emix"): 2}  # (domain, objective) -> trials
STEPS = {"max_steps": 3, "eval_every": 1}  # three evaluations: ASHA (grace 1, rf 2) cuts at 1 and 2
# Smoke trials that differ only in lr tie on every probe, and ASHA cuts only what scores below its
# rung: searching the initialization seed too makes their scores differ (as in test_search).
SEEDED = (
    "doc: test only\nsearch:\n  seed:\n    type: int\n    low: 0\n    high: 1000\n    default: 0\n"
    "    doc: initialization seed\n"
)


@pytest.fixture(scope="module")
def three_studies(tmp_path_factory):
    root = tmp_path_factory.mktemp("three")
    (root / "seeded.yaml").write_text(SEEDED)
    plans, max_t = [], {}
    for domains, objectives in ((("digits",), ("emix", "shed")), (("tabular",), ("emix",))):
        more, rungs = load_plans(
            tiny_request(
                root,
                domains=domains,
                objectives=objectives,
                overrides=dict(STEPS),
                space_files=(str(root / "seeded.yaml"),),
            )
        )
        plans += [dataclasses.replace(p, trials=STUDIES[(p.domain, p.objective)]) for p in more]
        max_t.update(rungs)
    exp = root / "exp"
    exp.mkdir()
    searcher = MultiStudySearcher(plans, str(exp / JOURNAL), METRIC, "max", "tpe", seed=0)
    scheduler = PerStudyScheduler("asha", max_t, grace_period=1, reduction_factor=2)
    searcher.attach(scheduler)
    namer = TrialNamer()
    tuner = tune.Tuner(
        trainable_for(tiny_request(root, domains=("digits", "tabular"))),
        tune_config=tune.TuneConfig(
            num_samples=-1,
            search_alg=searcher,
            scheduler=scheduler,
            metric=METRIC,
            mode="max",
            max_concurrent_trials=2,
            reuse_actors=True,
            trial_name_creator=namer,
            trial_dirname_creator=namer,
        ),
        run_config=tune.RunConfig(name="exp", storage_path=str(root), verbose=0),
    )
    with ray_session(num_cpus=2, record_in=str(exp)):
        grid = tuner.fit()
    return exp, grid, {p.name: p for p in plans}


def test_every_study_finishes_its_trials_numbered_from_zero(three_studies):
    exp, grid, _ = three_studies
    assert not grid.errors and len(grid) == sum(STUDIES.values())
    for (domain, objective), count in STUDIES.items():
        states = study_states(exp, domain, objective)
        assert sorted(states) == list(range(count)), (domain, objective, states)  # contiguous from 0
        results = trial_results(exp, domain, objective)
        assert sorted(results) == [f"{domain}_{objective}_{n:03d}" for n in range(count)]
        for number, state in states.items():
            rows = results[f"{domain}_{objective}_{number:03d}"]
            assert rows, (domain, objective, number)
            assert state == ("COMPLETE" if rows[-1].get("final") else "PRUNED"), (domain, objective, number, rows[-1])


def test_scheduler_stopped_trials_are_pruned_with_their_values(three_studies):
    exp, _, _ = three_studies
    pruned = [t for d, o in STUDIES for t in load_study(exp, d, o).trials if t.state.name == "PRUNED"]
    assert pruned, "ASHA stopped no trial: the test would not exercise pruning"
    for trial in pruned:
        assert (
            trial.intermediate_values and len(trial.intermediate_values) < STEPS["max_steps"]
        )  # stopped before its full budget


def test_each_studys_trial_zero_is_its_dabs_default(three_studies):
    exp, _, plans = three_studies
    for domain, objective in STUDIES:
        plan = plans[f"{domain}-{objective}"]
        params = json.loads((exp / f"{domain}_{objective}_000" / "params.json").read_text())
        assert plan.default and {k: params[k] for k in plan.default} == pytest.approx(plan.default)
        assert load_study(exp, domain, objective).trials[0].params == pytest.approx(plan.default)
        assert (params["domain"], params["objective"]) == (domain, objective)


def test_studies_run_side_by_side_none_waits_for_another(three_studies):
    exp, _, _ = three_studies
    trials = sorted(((t.datetime_start, d, o) for d, o in STUDIES for t in load_study(exp, d, o).trials))
    assert {(d, o) for _, d, o in trials[: len(STUDIES)]} == set(STUDIES)  # every study got a trial first
