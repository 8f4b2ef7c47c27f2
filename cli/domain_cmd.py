"""User domains on the command line: `--domain FILE.yaml` (or a name in $DABS_DOMAINS_DIR) and `domain check`.

The driver resolves every --domain value (`resolve_domains`) and prepares each user domain
before Ray starts (`prepare_user_domains`); `domain check FILE` does the same and prints what
a user needs before spending compute.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cli.errors import UserError, split_names, user_errors

if TYPE_CHECKING:
    from dabs_lib.domains.base import Domain


def resolve_domains(
    values: list[str] | None, default: tuple[str, ...] = ("digits",)
) -> tuple[tuple[str, ...], dict[str, str]]:
    """--domain values -> (domain names, {user domain name: its absolute domain file})."""
    from dabs_lib.userdomain import USER_DOMAIN_FILES, domain_file_for, register

    names, files = [], {}
    with user_errors("--domain: "):
        for value in split_names(values) or default:
            path = domain_file_for(value)
            if path is None:
                names.append(value)
                continue
            name = register(path)
            if files.get(name, str(path)) != str(path):
                raise UserError(
                    f"--domain: every domain file of one run needs its own name, but {path} and "
                    f"{files[name]} are both named {name!r} (set `name:` in one of them)"
                )
            names.append(name)
            files[name] = USER_DOMAIN_FILES[name]
    return tuple(dict.fromkeys(names)), files


def prepare_user_domains(files: dict[str, str], data_root: str) -> None:
    """Register and prepare (or verify the cache of) every user domain, before Ray starts.
    A problem in a domain file or its data is one line (UserError), and nothing is left half-written."""
    from dabs_lib.datasets import DatasetError
    from dabs_lib.userdomain import DomainFileError, register
    from dabs_lib.userdomain.prepare import prepare

    for name, path in files.items():
        try:
            register(path)
            prepare(path, data_root)
        except (DomainFileError, DatasetError, OSError) as error:
            raise UserError(f"domain {name!r}: {str(error).splitlines()[0]}") from None


def registered_files(name: str, data_root: str) -> dict[str, str]:
    """{name: its domain file} when `name` is a user domain prepared under `data_root` (a checkpoint's), else {}."""
    from dabs_lib.userdomain.registered import is_registered, source_of

    if not is_registered(name, data_root):
        return {}
    return {name: str(source_of(name, data_root))}


def _balance(labels: np.ndarray, classes: list[str]) -> str:
    if labels.ndim == 2:
        counts = labels.sum(axis=0).astype(int)
    else:
        counts = np.bincount(labels[labels >= 0], minlength=len(classes))
    return ", ".join(f"{c}={n}" for c, n in zip(classes, counts))


def _shapes(domain: Domain) -> list[str]:
    lines = []
    for spec, stats in zip(domain.specs, domain.stats):
        line = f"  {spec.kind}: {spec} -> {spec.num_tokens} tokens"
        if spec.kind == "tokens":
            line += (
                f"; {stats['tokens_mean']:.1f} tokens per example on average, vocabulary {stats['vocab_size']}, "
                f"{100 * stats['truncated']:.0f}% truncated at seq_len"
            )
        if stats.get("levels"):
            line += "; categories: " + ", ".join(f"{c} {len(v)} levels" for c, v in stats["levels"].items())
        if stats.get("missing_cells"):
            counts = ", ".join(f"{c} {n}" for c, n in stats["missing_cells"].items())
            line += f"; missing cells filled with their feature's mean: {counts}"
        lines.append(line)
    return lines


def _cost(specs: tuple, batch_size: int, rows: int) -> str:
    """Seconds of one training step and of a probe's featurization at the default model, measured here."""
    import torch

    from dabs_lib.encoder import Encoder
    from dabs_lib.model_config import ModelConfig
    from dabs_lib.userdomain.defaults import SMALL_MODEL

    torch.manual_seed(0)
    encoder = Encoder(specs, ModelConfig(**SMALL_MODEL))
    batch = []
    for spec in specs:
        if spec.kind == "tokens":
            batch.append(torch.randint(1, spec.vocab_size, (batch_size, spec.seq_len)))
        elif spec.kind == "2d":
            batch.append(torch.randn(batch_size, spec.in_channels, spec.input_size, spec.input_size))
        elif spec.kind == "1d":
            batch.append(torch.randn(batch_size, spec.seq_len, spec.in_channels))
        else:
            batch.append(torch.randn(batch_size, spec.num_features))
    encoder([x[:1] for x in batch]).pooled.sum().backward()  # warm-up: first calls pay one-off setup
    start = time.perf_counter()
    encoder(batch).pooled.sum().backward()
    step = time.perf_counter() - start
    with torch.no_grad():
        start = time.perf_counter()
        encoder(batch)
        forward = time.perf_counter() - start
    probe = forward * max(1, -(-rows // batch_size))
    return (
        f"at the default model (embed_dim {SMALL_MODEL['embed_dim']}, depth {SMALL_MODEL['depth']}) on this "
        f"machine's CPU: about {step:.2f} s per "
        f"training step (batch {batch_size}), about {probe:.1f} s to featurize the {rows} task rows for a probe"
    )


def cmd_domain(args: argparse.Namespace) -> int:
    """`domain check FILE`: validate the file and its data (preparing it once) and summarize it."""
    from dabs_lib.datasets.source import absolute_root
    from dabs_lib.userdomain.defaults import derived_defaults
    from dabs_lib.userdomain.load import build_user_domain, open_prepared

    path = Path(args.file)
    with user_errors():
        names, files = resolve_domains([args.file], default=())
        if not files:
            raise UserError(f"domain check takes a domain file (.yaml), but got {args.file!r}, which is not one")
    data_root = absolute_root(args.data_root)
    prepare_user_domains(files, data_root)
    name = names[0]
    processed = open_prepared(name, data_root)
    domain = build_user_domain(name, data_root)
    domain.stats = processed.meta["stats"]
    parts = processed.load("parts", mmap=False)
    print(f"domain {name} ({path}): ok; prepared in {processed.folder}")
    print(
        f"rows: {len(domain.pretrain)} pretraining (train + unlabelled), "
        + ", ".join(f"{split} {int((parts == code).sum())}" for code, split in enumerate(("train", "val", "test")))
    )
    print("inputs:")
    print("\n".join(_shapes(domain)))
    for task in processed.meta["tasks"]:
        labels = processed.load(f"task_{task['name']}", mmap=False)[: int((parts < 3).sum())]
        balance = _balance(labels, task["classes"]) if task["classes"] else f"mean {labels.mean():.4g}"
        print(
            f"task {task['name']}: {task['kind']}, metric {task['metric']}, {task['num_classes']} output(s); "
            f"labels: {balance}"
        )
    fixed, search = derived_defaults(len(domain.pretrain), processed.meta["batch_size"])
    print(
        f"search defaults (derived from the size; change with --set): batch_size {search['batch_size']['choices']} "
        f"(default {search['batch_size']['default']}), max_steps {fixed['max_steps']}, "
        f"eval_every {fixed['eval_every']}, embed_dim {fixed['embed_dim']}, depth {fixed['depth']}"
    )
    if not args.no_cost:
        rows = sum(len(getattr(t, s)) for t in domain.tasks.values() for s in ("train", "val", "test"))
        print("cost: " + _cost(domain.specs, search["batch_size"]["default"], rows))
    return 0
