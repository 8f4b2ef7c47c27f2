"""`pretrain` (one run, no Ray) and `probe` (score a checkpoint on a domain's tasks)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import lightning as L

from cli.errors import UserError, parse_set, refuse_smoke_overrides, user_errors
from dabs_lib.config import PretrainConfig, effective_config
from dabs_lib.progress import stage
from dabs_lib.safe_io import write_json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm import tqdm

    from dabs_lib.experiment import TrialSettings


class StepBar(L.Callback):
    """Advances a dabs_lib.progress bar by one per optimizer step, showing the loss."""

    def __init__(self, bar: tqdm) -> None:
        self.bar = bar

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self.bar.update(trainer.global_step - self.bar.n)
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is not None and self.bar.n % 10 == 0:
            self.bar.set_postfix(loss=f"{float(loss):.4f}", refresh=False)


def config_from_args(args: argparse.Namespace) -> tuple[PretrainConfig, TrialSettings, dict[str, Any]]:
    """The run's config and settings, and the values the user gave (--config file, then --set)."""
    import yaml

    from dabs_lib.config import config_from_dict
    from dabs_lib.experiment import TRIAL_KEYS, TrialSettings
    from dabs_lib.settings_rules import check_relations

    flat, source = {}, "--set"
    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise UserError(f"--config: file {str(path)!r} does not exist")
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as error:
            raise UserError(f"--config {path}: malformed YAML ({str(error).splitlines()[0]})") from None
        loaded = loaded.get("config", loaded) if isinstance(loaded, dict) else loaded
        if not isinstance(loaded, dict):
            raise UserError(f"--config {path}: must be a mapping of key: value, but got {type(loaded).__name__}")
        flat.update(loaded)
        source = str(path)
    given = parse_set(args.set)
    refuse_smoke_overrides(args.smoke_test, given)
    flat.update(given)
    for flag in ("domain", "objective"):
        if getattr(args, flag):
            flat[flag] = getattr(args, flag)
    if args.smoke_test:
        flat["smoke_test"] = True
    given = dict(flat)
    trial = {k: flat.pop(k) for k in list(flat) if k in TRIAL_KEYS}
    config = config_from_dict(flat, source)
    try:
        settings = TrialSettings(**trial)
    except (TypeError, ValueError) as error:
        raise UserError(f"{error} in {source}") from None
    check_relations({**config.to_dict(), **dataclasses.asdict(settings)}, source)
    return config, settings, given


def plan_line(args: argparse.Namespace, config: PretrainConfig, out: Path) -> str:
    """What `pretrain` is about to do, and where the choices came from (defaults say so)."""
    chosen = args.config or args.domain or args.objective or args.set
    source = "" if chosen else " (the defaults: choose with --domain, --objective, --set or --config)"
    size = ", smoke-test size" if config.smoke_test else ""
    return (
        f"pretrain: objective {config.objective} on domain {config.domain}{source}, "
        f"{effective_config(config).max_steps} steps{size}, "
        f"then linear probes on every transfer task of {config.domain}; "
        f"writing {out / 'encoder.pt'} and {out / 'scores.json'}"
    )


def cmd_pretrain(args: argparse.Namespace) -> int:
    from dabs_lib.domains.door import prepare_domain
    from dabs_lib.pretrain import pretrain
    from dabs_lib.transfer import evaluate_domain
    from dabs_lib.experiment import probe_protocol

    from cli.search_cmd import check_folder_value, refuse_split_seed

    from cli.domain_cmd import prepare_user_domains, resolve_domains

    with user_errors():
        check_folder_value("--out", args.out)
        files = {}
        if args.domain:  # a domain file: its name, prepared below before anything runs
            (args.domain,), files = resolve_domains([args.domain])
        config, settings, given = config_from_args(args)
        check_folder_value("data_root", config.data_root)
        prepare_user_domains(files, config.data_root)
        refuse_split_seed(config.domain, config.data_root, given, where=args.config or "--set")
        domain = prepare_domain(
            config.domain, seed=config.data_seed, data_root=config.data_root, smoke=config.smoke_test
        )
    out = Path(args.out)
    print(plan_line(args, config, out), flush=True)
    # Epoch boundaries fix the batch order (dabs_lib.data): split steps as a search trial does,
    # so an exported trial config reproduces the trial to the seed.
    with stage(
        f"pretraining {config.objective} on {config.domain}", effective_config(config).max_steps, "steps"
    ) as bar:
        result = pretrain(config, output_dir=out, steps_per_epoch=settings.eval_every, callbacks=[StepBar(bar)])
    with stage(f"scoring the transfer tasks of {config.domain}"):
        table = evaluate_domain(result.encoder, domain, probe_protocol(settings))
    scores = {row["task"]: row["test_score"] for row in table.to_dict("records")}
    write_json(
        out / "scores.json",
        {"config": config.to_dict(), "steps": result.steps, "seconds": result.seconds, "test": scores},
    )
    print(table.to_string(index=False))
    print(f"encoder: {result.checkpoint_path}\nscores: {out / 'scores.json'}")
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from dabs_lib.checkpoints import load_encoder, read_checkpoint
    from dabs_lib.domains.door import prepare_domain
    from dabs_lib.transfer import ProbeProtocol, evaluate_domain

    with user_errors():
        check_probe_flags(args)
    path = Path(args.checkpoint)
    if path.is_dir():
        path = path / "encoder.pt"
    if not path.is_file():
        raise UserError(f"checkpoint: file {str(path)!r} does not exist")
    with user_errors(f"{path}: "):
        saved = read_checkpoint(path)["meta"].get("config", {})
        domain_name = args.domain or saved.get("domain")
        if not domain_name:
            raise UserError("--domain is required: the checkpoint does not say which domain it was trained on")
        from cli.domain_cmd import prepare_user_domains, registered_files, resolve_domains

        if args.domain:  # a domain file: prepared (or its cache verified) before scoring
            (domain_name,), files = resolve_domains([args.domain])
            prepare_user_domains(files, saved.get("data_root", ""))
        else:  # trained on a user domain: its file, as registered when it was prepared, checked again
            prepare_user_domains(registered_files(domain_name, saved.get("data_root", "")), saved.get("data_root", ""))
        smoke = args.smoke_test or saved.get("smoke_test", False)
        domain = prepare_domain(
            domain_name, seed=saved.get("data_seed", 42), data_root=saved.get("data_root", ""), smoke=smoke
        )
        encoder = load_encoder(path, specs=domain.specs)
        protocol = ProbeProtocol(
            kind=args.protocol,
            finetune_epochs=1 if args.smoke_test else args.finetune_epochs,
            finetune_lr=args.finetune_lr,
            fewshot_sizes=tuple(args.fewshot or ()),
        )
    if args.search:
        return cmd_probe_search(args, path, domain_name)
    table = evaluate_domain(encoder, domain, protocol)
    print(table.to_string(index=False))
    return 0


def check_probe_flags(args: argparse.Namespace) -> None:
    """The probe's flags obey the same rules as the settings they set (dabs_lib.settings_rules)."""
    from dabs_lib.settings_rules import check_value

    check_value("finetune_lr", args.finetune_lr, "--finetune-lr")
    check_value("finetune_epochs", args.finetune_epochs, "--finetune-epochs")
    if any(n < 1 for n in args.fewshot or ()):
        raise UserError(f"--fewshot must be >= 1, but got {min(args.fewshot)}")
    if args.search:
        validate_probe_search(args)
    if getattr(args, "storage_path", None) is not None:
        from cli.search_cmd import check_folder_value

        check_folder_value("--storage-path", args.storage_path)


def validate_probe_search(args: argparse.Namespace) -> None:
    from trainables.schedulers import SAMPLERS

    if args.num_samples < 1:
        raise UserError(f"--num-samples must be >= 1, but got {args.num_samples}")
    if args.sampler not in SAMPLERS:
        raise UserError(f"--sampler: unknown sampler {args.sampler!r}; choose from {sorted(SAMPLERS)}")


def cmd_probe_search(args: argparse.Namespace, checkpoint: Path, domain_name: str) -> int:
    """`probe CHECKPOINT --search`: Optuna over the fine-tuning probe's lr, weight decay, epochs."""
    import time

    from dabs_lib.experiment import check_name

    from cli.report_cmd import summarize
    from trainables import storage
    from trainables.cluster import ray_session
    from trainables.outcome import finish, journal_for, new_manifest, write_manifest
    from trainables.probe import build_probe_tuner, probe_plan
    from trainables.search import storage_abs

    name = args.name or f"{domain_name}_probe_{time.strftime('%Y%m%d-%H%M%S')}"
    with user_errors():
        check_name(name)
    uri = storage.join(storage_abs(args.storage_path), name)
    if storage.exists(uri):
        raise UserError(f"--name: experiment {uri} already exists; choose another name")
    checkpoint = str(checkpoint.resolve())
    plan = probe_plan(checkpoint, domain_name, args.num_samples, args.smoke_test)
    manifest = new_manifest(
        "probe",
        {
            "checkpoint": checkpoint,
            "domains": [domain_name],
            "sampler": args.sampler,
            "seed": args.seed,
            "num_samples": args.num_samples,
        },
        [plan],
    )
    write_manifest(uri, manifest)
    journal = journal_for(uri)
    with ray_session(num_cpus=args.num_cpus, record_in=uri):  # as a search: its processes recorded for `stop`
        tuner = build_probe_tuner(
            checkpoint, domain_name, args.num_samples, uri, journal, args.sampler, args.seed, args.smoke_test
        )
        grid = tuner.fit()
    finish(uri, manifest, [plan], grid, journal)
    summarize(uri)
    return 0
