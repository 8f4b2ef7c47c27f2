"""`export-model`, `models list` and `featurize`: take the encoder a search found home and use it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.errors import UserError, user_errors

if TYPE_CHECKING:
    from torch.utils.data import Dataset

    from dabs_lib.domains.base import Domain

FEATURE_SUFFIXES = (".parquet", ".npz")


def cmd_export_model(args: argparse.Namespace) -> int:
    from analysis.model_export import export_models
    from cli.misc_cmd import experiment_dir
    from cli.parser import package_version

    experiment = experiment_dir(args.experiment)
    if args.trial and args.study:
        raise UserError(f"give --study or --trial, not both (got --study {args.study}, --trial {args.trial})")
    with user_errors():
        folders = export_models(
            experiment,
            args.out,
            study=args.study or "",
            trial=args.trial or "",
            which=args.which,
            report_dir=args.report,
            version=package_version(),
        )
    for folder in folders:
        print(f"model: {folder}")
    print(f"use: {_invoked()} models list --models-dir {args.out}")
    return 0


def _invoked() -> str:
    from cli.parser import invoked_name

    return invoked_name()


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def cmd_models(args: argparse.Namespace) -> int:
    from dabs_lib.model_registry import MODELS_ENV, find_models, models_dirs

    entries = find_models(args.models_dir)
    if not entries:
        where = ", ".join(str(d) for d in models_dirs(args.models_dir))
        print(
            f"no models under {where} (export some: {_invoked()} export-model EXPERIMENT --out DIR; "
            f"look elsewhere: --models-dir DIR or ${MODELS_ENV})"
        )
        return 0
    header = ("name", "domain", "objective", "headline score", "size", "where")
    rows = [(e.qualified, e.domain, e.objective, e.headline or "-", _size(e.size_bytes), str(e.path)) for e in entries]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    return 0


def pick_split(domain: Domain, split: str) -> tuple[Dataset[Any], str]:
    """`pretrain`, `<split>` of the domain's default task, or `<task>/<split>` -> (dataset, name)."""
    if split == "pretrain":
        return domain.pretrain, split
    task, _, part = split.rpartition("/")
    task = task or domain.default_task
    choices = ["pretrain", *[f"{t}/{s}" for t in domain.tasks for s in ("train", "val", "test")]]
    if task not in domain.tasks or part not in ("train", "val", "test") or getattr(domain.tasks[task], part) is None:
        raise UserError(f"--split must be one of {choices}, or train/val/test of the default task, but got {split!r}")
    return getattr(domain.tasks[task], part), f"{task}/{part}"


def _check_out(out: str) -> Path:
    path = Path(out)
    if path.suffix not in FEATURE_SUFFIXES:
        raise UserError(f"--out must end in {' or '.join(FEATURE_SUFFIXES)}, but got {out!r}")
    if not path.parent.is_dir():
        raise UserError(f"--out: the folder {str(path.parent)!r} must exist, but it does not")
    return path


def cmd_featurize(args: argparse.Namespace) -> int:
    from dabs_lib.models import load_encoder
    from dabs_lib.transfer.features import featurize

    out = _check_out(args.out)
    with user_errors():
        encoder, featurizer = load_encoder(args.model, device=args.device, models_dir=args.models_dir)
        name = args.domain or featurizer.config["domain"]
        if args.domain:  # a domain file (your own data): registered and prepared (or its cache checked) first
            from cli.domain_cmd import prepare_user_domains, resolve_domains

            (name,), files = resolve_domains([args.domain])
            prepare_user_domains(files, args.data_root)
        domain = featurizer.domain(name, args.data_root, say=print)  # a user's domain: checked, scaled as the model's
    if tuple(domain.specs) != tuple(encoder.specs):
        raise UserError(
            f"--domain {name}: its inputs must be those the model was trained on "
            f"({[s.kind for s in encoder.specs]} {list(encoder.specs)}), but they are {list(domain.specs)}"
        )
    data, split = pick_split(domain, args.split)
    features = featurize(
        encoder, data, batch_size=args.batch_size, device=featurizer.device, where=f"{name} {split}", progress=True
    )
    from cli.feature_files import write_features

    write_features(out, features.features, features.labels, features.rows)
    print(
        f"features: {out} ({len(features.rows)} rows x {features.features.shape[1]} dims, {name} {split}, "
        f"{featurizer.device})"
    )
    return 0
