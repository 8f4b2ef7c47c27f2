"""The `probe` trainable: search fine-tuning probe settings over one fixed checkpoint.

Searched: `finetune_lr`, `finetune_weight_decay`, `finetune_epochs` (search_spaces/probe.yaml).
Each trial fine-tunes a copy of the encoder plus a linear head on the domain's default
task, reports the validation score as `transfer/val` and the test score once, with
`final: True`. The experiment has the layout of a search (dabs_lib.experiment; manifest kind
`probe`, one study `<domain>-probe` in the journal), so `analyze` and `export` read it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ray import tune

from dabs_lib.checkpoints import load_encoder
from dabs_lib.domains import get_domain
from dabs_lib.experiment import FINAL, METRIC, STEP, TEST_PREFIX, VAL_PREFIX, probe_protocol
from dabs_lib.transfer import evaluate_domain
from trainables.optuna_search import MultiStudySearcher, StudyPlan
from trainables.progress import ProgressPrinter
from trainables.search import TrialNamer
from trainables.settings import split_trial_config

PROBE_KEYS = ("finetune_lr", "finetune_weight_decay", "finetune_epochs")
PROBE = "probe"  # the study's objective name: `<domain>-probe`


def probe(trial_config: dict[str, Any]) -> None:
    config, settings = split_trial_config(trial_config)
    domain = get_domain(config.domain, seed=config.data_seed, data_root=config.data_root, smoke=config.smoke_test)
    encoder = load_encoder(settings.checkpoint, specs=domain.specs)
    protocol = probe_protocol(settings, kind="finetune", smoke_test=config.smoke_test)
    task = domain.default_task
    row = evaluate_domain(encoder, domain, protocol, cache_dir=None, tasks=(task,)).iloc[0]
    tune.report(
        {
            METRIC: float(row["val_score"]),
            f"{TEST_PREFIX}{task}": float(row["test_score"]),
            f"{VAL_PREFIX}{task}": float(row["val_score"]),
            STEP: 0,
            FINAL: True,
        }
    )


def probe_plan(checkpoint: str, domain: str, num_samples: int, smoke_test: bool = False) -> StudyPlan:
    """The one study of a probe search, the DABS fine-tuning settings first."""
    from ray.tune.search.optuna import OptunaSearch

    from search_spaces import default_point, load_space, to_tune

    space = load_space("none", domain, ["probe"], {"smoke_test": smoke_test})
    space = dataclasses.replace(space, search={k: v for k, v in space.search.items() if k in PROBE_KEYS})
    searched = {k: v for k, v in to_tune(space).items() if k in PROBE_KEYS}
    fixed = {
        "checkpoint": str(checkpoint),
        "domain": domain,
        "smoke_test": smoke_test,
        "data_seed": space.fixed.get("data_seed", 42),
        "data_root": space.fixed.get("data_root", ""),
    }
    return StudyPlan(
        domain, PROBE, num_samples, fixed, OptunaSearch.convert_search_space(searched), default_point(space)
    )


def build_probe_tuner(
    checkpoint: str,
    domain: str,
    num_samples: int,
    experiment_uri: str,
    journal: str,
    sampler: str = "tpe",
    seed: int = 0,
    smoke_test: bool = False,
) -> tune.Tuner:
    """A Tuner over the fine-tuning probe settings of `checkpoint`, in the experiment's journal."""
    plan = probe_plan(checkpoint, domain, num_samples, smoke_test)
    searcher = MultiStudySearcher([plan], journal, METRIC, "max", sampler, seed)
    parent, name = experiment_uri.rstrip("/").rsplit("/", 1)
    namer = TrialNamer()
    return tune.Tuner(
        tune.with_resources(probe, {"cpu": 1}),
        tune_config=tune.TuneConfig(
            num_samples=-1,
            search_alg=searcher,
            reuse_actors=True,
            trial_name_creator=namer,
            trial_dirname_creator=namer,
        ),
        run_config=tune.RunConfig(name=name, storage_path=parent, callbacks=[ProgressPrinter()], verbose=0),
    )
