"""What a user sees of a real two-domain search: TensorBoard's HPARAMS and scalars (read with
TensorBoard's own reader and hparams plugin), Optuna's dashboard (its own WSGI server), the
`status` command, and Ray's ExperimentAnalysis per study."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from dabs_lib.experiment import FOLDER_ATTR, METRIC, STUDY, STUDY_ATTRS, TUNE_ID_ATTR, open_storage, study_name
from tests.trainables.helpers import tiny_request

pytestmark = pytest.mark.slow
DOMAINS, OBJECTIVE = ("digits", "tokens"), "emix"
STEPS = {"max_steps": 4, "eval_every": 2}


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    from trainables.runner import run_search

    root = tmp_path_factory.mktemp("views")
    request = tiny_request(
        root, domains=DOMAINS, objectives=(OBJECTIVE,), num_samples=3, baseline=True, overrides=dict(STEPS)
    )
    uri, outcome = run_search(request, num_cpus=2)
    assert not outcome.failed_studies
    return Path(uri)


def _trial_dirs(experiment: Path) -> list[Path]:
    return sorted(p.parent for p in experiment.glob("*/params.json"))


def _plugin_post(experiment: Path, route: str, body: dict) -> dict:
    """POST to TensorBoard's hparams plugin, as the HPARAMS tab does, served in-process."""
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import hparams_plugin
    from werkzeug.test import Client
    from werkzeug.wrappers import Response

    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(experiment))
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, str(experiment))
    plugin = hparams_plugin.HParamsPlugin(
        base_plugin.TBContext(logdir=str(experiment), multiplexer=multiplexer, data_provider=provider)
    )
    client = Client(plugin.get_plugin_apps()[route], Response)
    response = client.post(route, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))


def _searched(study: str) -> set[str]:
    from search_spaces import load_space

    domain, objective = study.rsplit("-", 1)
    return set(load_space(objective, domain, [], dict(STEPS, smoke_test=True)).search) if objective != "none" else set()


def test_hparams_is_one_experiment_of_every_studys_parameters_and_every_domains_metrics(experiment):
    got = _plugin_post(experiment, "/experiment", {"experimentName": ""})
    params = {info["name"] for info in got["hparamInfos"]}
    searched = set().union(*(_searched(study_name(d, OBJECTIVE)) for d in DOMAINS))
    assert {"lr", "weight_decay"} <= searched
    assert searched | {"domain", "objective"} <= params, searched - params
    assert not {"trial_number", STUDY, "seed"} & params
    metrics = {(info["name"].get("group", ""), info["name"]["tag"]) for info in got["metricInfos"]}
    finals = {}
    for trial_dir in _trial_dirs(experiment):
        last = json.loads((trial_dir / "result.json").read_text().splitlines()[-1])
        finals.setdefault(last["config"]["domain"], set()).update(k for k in last if k.startswith("test/"))
    assert set(finals) == set(DOMAINS) and all(finals.values())
    wanted = {("", f"ray/tune/{METRIC}")} | {("", f"ray/tune/{key}") for keys in finals.values() for key in keys}
    assert wanted <= metrics, wanted - metrics
    assert not any("config/" in tag or tag.endswith(("/done", "/trial_number")) for _, tag in metrics), metrics


def test_hparams_session_groups_hold_every_trial_of_every_study(experiment):
    body = {
        "experimentName": "",
        "startIndex": 0,
        "sliceSize": 100,
        "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
        "colParams": [{"metric": {"tag": f"ray/tune/{METRIC}", "group": ""}, "order": "ORDER_DESC"}],
    }
    got = _plugin_post(experiment, "/session_groups", body)
    groups = got["sessionGroups"]
    assert len(groups) == len(_trial_dirs(experiment)) == 2 * (1 + 3)
    domains = {group["hparams"]["domain"] for group in groups}
    assert domains == set(DOMAINS)
    values = [
        next((m["value"] for m in g["metricValues"] if m["name"]["tag"] == f"ray/tune/{METRIC}"), None) for g in groups
    ]
    assert all(v is not None for v in values) and values == sorted(values, reverse=True)  # sorted across studies


def _scalars(trial_dir: Path) -> dict[str, list[int]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    steps: dict[str, list[int]] = {}
    for path in sorted(trial_dir.rglob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(path))
        accumulator.Reload()
        for tag in accumulator.Tags()["scalars"]:
            steps.setdefault(tag, []).extend(event.step for event in accumulator.Scalars(tag))
    return steps


def test_every_curve_is_on_the_optimizer_step_axis_up_to_the_last_step(experiment):
    for trial_dir in _trial_dirs(experiment):
        results = [json.loads(line) for line in (trial_dir / "result.json").read_text().splitlines()]
        reported = [r["step"] for r in results]
        steps = _scalars(trial_dir)
        assert not [tag for tag in steps if tag.startswith("ray/tune/config/")], sorted(steps)
        assert steps[f"ray/tune/{METRIC}"] == reported, (trial_dir.name, steps)
        if results[0]["config"]["objective"] == "none":
            assert reported == [0]  # a baseline never trains: drawn at step 0, not at Tune's iteration 1
            continue
        loss = steps["train/loss"]
        assert max(loss) == max(reported), (trial_dir.name, loss, reported)  # the last step is there
        assert set(reported) <= set(loss) and len(loss) == len(set(loss)), loss  # each step once
        assert min(loss) >= 1, loss  # optimizer steps taken, as Tune's reports count them


def test_lightning_hparams_yaml_holds_the_trials_settings(experiment):
    import yaml

    trained = [d for d in _trial_dirs(experiment) if (d / "lightning" / "hparams.yaml").exists()]
    assert len(trained) == 2 * 3
    for trial_dir in trained:
        settings = yaml.safe_load((trial_dir / "lightning" / "hparams.yaml").read_text())
        config = json.loads((trial_dir / "params.json").read_text())
        assert settings["lr"] == pytest.approx(config["lr"]) and settings["domain"] == config["domain"]


def test_optuna_studies_are_labelled_and_keyed_by_optimizer_step(experiment):
    import optuna

    storage = open_storage(experiment)
    for domain in DOMAINS:
        study = optuna.load_study(study_name=study_name(domain, OBJECTIVE), storage=storage)
        assert study.metric_names == [METRIC]
        assert [study.user_attrs[k] for k in STUDY_ATTRS] == [domain, OBJECTIVE]
        tune_ids = {
            json.loads((d / "result.json").read_text().splitlines()[0])["trial_id"] for d in _trial_dirs(experiment)
        }
        for trial in study.trials:
            folder = experiment / trial.user_attrs[FOLDER_ATTR]
            assert (folder / "params.json").exists() and trial.user_attrs[TUNE_ID_ATTR] in tune_ids
            assert [trial.user_attrs[k] for k in STUDY_ATTRS] == [domain, OBJECTIVE]
            reported = [json.loads(line)["step"] for line in (folder / "result.json").read_text().splitlines()]
            assert sorted(trial.intermediate_values) == reported, (trial.number, trial.intermediate_values)


def _dashboard_get(app, path: str) -> dict:
    """GET from optuna-dashboard's own WSGI app, as its web page does."""
    status: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    body = b"".join(app(environ, lambda code, headers, *exc: status.append(code)))
    assert status and status[0].startswith("200"), (path, status, body[:300])
    return json.loads(body)


def test_optuna_dashboard_shows_metric_names_user_attrs_and_step_keyed_values(experiment):
    from optuna_dashboard import wsgi

    app = wsgi(open_storage(experiment))
    studies = {s["study_name"]: s for s in _dashboard_get(app, "/api/studies")["study_summaries"]}
    assert {study_name(d, OBJECTIVE) for d in DOMAINS} <= set(studies)
    for domain in DOMAINS:
        summary = studies[study_name(domain, OBJECTIVE)]
        detail = _dashboard_get(app, f"/api/studies/{summary['study_id']}")
        assert detail["objective_names"] == [METRIC]  # the study's metric_names, not "Objective 0"
        assert {"key": "domain", "value": domain} in detail["user_attrs"]
        steps = set()
        for trial in detail["trials"]:
            attrs = {a["key"]: a["value"] for a in trial["user_attrs"]}
            assert attrs[FOLDER_ATTR].startswith(f"{domain}_{OBJECTIVE}_") and attrs[TUNE_ID_ATTR]
            steps.update(v["step"] for v in trial["intermediate_values"])
        assert steps == {2, 4}, steps  # optimizer steps (eval_every 2, max_steps 4), not evaluations 1, 2


def test_status_reports_every_study_after_the_search(experiment, capsys):
    import run_search

    assert run_search.main(["status", str(experiment)]) == 0
    out = capsys.readouterr().out
    assert f"storage: {experiment / 'optuna.journal'}" in out
    for domain in DOMAINS:
        line = next(ln for ln in out.splitlines() if ln.startswith(study_name(domain, OBJECTIVE) + " "))
        finished, running, pruned, errored, planned, best = line.split()[1:7]
        assert int(finished) + int(pruned) == int(planned) == 3 and running == errored == "0"
        assert 0.0 <= float(best) <= 1.0
    assert "overall: " in out and "of 8 trials" in out


def test_ray_best_trial_per_study_with_rays_own_api(experiment):
    """docs/search.md: ExperimentAnalysis ranks every study together; filter its trials by study."""
    from ray.tune import ExperimentAnalysis

    analysis = ExperimentAnalysis(str(experiment))
    for domain in DOMAINS:
        name = study_name(domain, OBJECTIVE)
        trials = [t for t in analysis.trials if t.config[STUDY] == name]
        best = max(trials, key=lambda t: t.last_result.get(METRIC, float("-inf")))
        frame = analysis.dataframe()  # each trial's last result, as `best` ranks them
        mine = frame[frame[f"config/{STUDY}"] == name]
        top = mine[mine[METRIC] == mine[METRIC].max()]  # smoke scores tie often: either answer is right
        assert best.trial_id in set(top["trial_id"]) and best.last_result[METRIC] == mine[METRIC].max()
        assert best.config["domain"] == domain
        best_ever = analysis.dataframe(metric=METRIC, mode="max")  # each trial's best-ever row instead
        ever = best_ever[best_ever[f"config/{STUDY}"] == name]
        assert ever[METRIC].max() >= mine[METRIC].max()
