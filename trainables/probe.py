"""The `probe` trainable: search fine-tuning probe settings over one fixed checkpoint.

Searched: `finetune_lr`, `finetune_weight_decay`, `finetune_epochs` (search_spaces/probe.yaml).
Each trial fine-tunes a copy of the encoder plus a linear head on the domain's default
task, reports the validation score as `transfer/val` and the test score once, with
`final: True`. Results land in the same layout as a pretraining search, so `analyze` and
`export` read them.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from ray import tune

from dabs_lib.checkpoints import load_encoder
from dabs_lib.domains import get_domain
from dabs_lib.transfer import ProbeProtocol, evaluate_domain
from trainables.optuna_search import BudgetAwareOptunaSearch
from trainables.progress import ProgressPrinter
from trainables.schedulers import make_sampler
from trainables.search import TrialNamer
from trainables.settings import split_trial_config

PROBE_KEYS = ("finetune_lr", "finetune_weight_decay", "finetune_epochs")


def probe(trial_config: dict[str, Any]) -> None:
    config, settings = split_trial_config(trial_config)
    domain = get_domain(config.domain, seed=config.data_seed, data_root=config.data_root, smoke=config.smoke_test)
    encoder = load_encoder(settings.checkpoint, specs=domain.specs)
    protocol = ProbeProtocol(kind="finetune", finetune_lr=settings.finetune_lr,
                             finetune_weight_decay=settings.finetune_weight_decay,
                             finetune_epochs=1 if config.smoke_test else settings.finetune_epochs)
    task = domain.default_task
    row = evaluate_domain(encoder, domain, protocol, cache_dir=None, tasks=(task,)).iloc[0]
    tune.report({"transfer/val": float(row["val_score"]), f"test/{task}": float(row["test_score"]),
                 f"val/{task}": float(row["val_score"]), "step": 0, "final": True})


def build_probe_tuner(checkpoint: str, domain: str, num_samples: int, storage_path: str, name: str,
                      sampler: str = "tpe", seed: int = 0, smoke_test: bool = False) -> tune.Tuner:
    """A Tuner over the fine-tuning probe settings of `checkpoint`, the DABS settings first."""
    from search_spaces import default_point, load_space, to_tune

    space = load_space("none", domain, ["probe"], {"smoke_test": smoke_test})
    space = dataclasses.replace(space, search={k: v for k, v in space.search.items() if k in PROBE_KEYS})
    param_space = {k: v for k, v in to_tune(space).items() if k in PROBE_KEYS}
    param_space.update(checkpoint=str(checkpoint), domain=domain, smoke_test=smoke_test,
                       data_seed=space.fixed.get("data_seed", 42), data_root=space.fixed.get("data_root", ""))
    namer = TrialNamer(domain, "probe")
    searcher = BudgetAwareOptunaSearch(metric="transfer/val", mode="max", sampler=make_sampler(sampler, seed),
                                       points_to_evaluate=[default_point(space)])
    return tune.Tuner(
        tune.with_resources(probe, {"cpu": 1}),
        param_space=param_space,
        tune_config=tune.TuneConfig(num_samples=num_samples, search_alg=searcher, reuse_actors=True,
                                    trial_name_creator=namer, trial_dirname_creator=namer),
        run_config=tune.RunConfig(name=name, storage_path=storage_path, callbacks=[ProgressPrinter(domain, "probe")],
                                  verbose=0),
    )
