"""What a model exported from a user's domain needs to read data as its own domain was read.

`export-model` records, per input of a prepared user domain, the z-score statistics of its
pretraining rows, a tabular input's features (its columns and the categories' levels, in order)
and a text input's tokenizer (its hash, and the file copied beside the model); `featurize`
then checks another user domain (or the same one, prepared again from edited files) against
that record: features and tokenizer must be the model's (ids and one-hot positions mean nothing
otherwise, so a mismatch is refused in one line), and continuous inputs are z-scored with the
model's statistics, as a fitted scaler is applied to new rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dabs_lib.userdomain.load import open_prepared

RECORDED = ("mean", "std", "features", "tokenizer_sha256", "vocab_size", "pad_id")  # stats keys a model keeps


class PreprocessingMismatch(ValueError):
    """A user domain's inputs are not read as the model's were (a one-line message)."""


def _tokenizer_source(meta: dict[str, Any], index: int, folder: Path) -> Path | None:
    """The tokenizer file a text input was tokenized with: trained into the prepared folder, or the user's."""
    trained = folder / f"input{index}.tokenizer.json"
    if trained.is_file():
        return trained
    declared = (yaml.safe_load(meta.get("domain_file") or "") or {}).get("inputs", [])
    if index < len(declared) and isinstance(declared[index], dict) and declared[index].get("tokenizer"):
        path = Path(meta["source"]).parent / str(declared[index]["tokenizer"])
        return path if path.is_file() else None
    return None


def preprocessing_record(name: str, data_root: str = "") -> tuple[dict[str, Any], dict[str, Path]]:
    """(config.json's `data.preprocessing`, files to copy into the model folder by their names there)."""
    processed = open_prepared(name, data_root)
    meta = processed.meta
    inputs, files = [], {}
    for index, (input_name, kind, stats) in enumerate(zip(meta["inputs"], meta["kinds"], meta["stats"])):
        entry: dict[str, Any] = {"input": input_name, "kind": kind}
        entry.update({k: stats[k] for k in RECORDED if k in stats})
        source = _tokenizer_source(meta, index, processed.folder) if kind == "text" else None
        if source is not None:
            entry["tokenizer_file"] = f"input{index}.tokenizer.json"
            files[entry["tokenizer_file"]] = source
        inputs.append(entry)
    return {"domain": name, "inputs": inputs}, files


def _first_difference(ours: list[str], theirs: list[str]) -> str:
    only_model = [f for f in theirs if f not in ours]
    only_domain = [f for f in ours if f not in theirs]
    if only_model or only_domain:
        return f"the model's features not in it: {only_model[:5]}; its features the model lacks: {only_domain[:5]}"
    return "the same features in another order"


def check_against(record: dict[str, Any], name: str, data_root: str, model_folder: Path) -> list[dict[str, Any]]:
    """The statistics to read user domain `name` with (the model's), once its inputs are shown to be read
    as the model's were; PreprocessingMismatch (one line) otherwise."""
    meta = open_prepared(name, data_root).meta
    recorded = record.get("inputs", [])
    if len(recorded) != len(meta["stats"]):
        raise PreprocessingMismatch(
            f"domain {name!r} has {len(meta['stats'])} input(s), but the model was trained on {len(recorded)}"
        )
    stats = []
    for model, kind, own, input_name in zip(recorded, meta["kinds"], meta["stats"], meta["inputs"]):
        where = f"domain {name!r}, input {input_name!r}"
        if model.get("kind") != kind:
            raise PreprocessingMismatch(f"{where}: must be a {model.get('kind')} input, as the model's, but is {kind}")
        if "features" in model and own.get("features") != model["features"]:
            raise PreprocessingMismatch(
                f"{where}: its tabular features must be the model's {len(model['features'])} (columns and "
                f"category levels, in order), but it has {len(own.get('features') or [])}: "
                + _first_difference(list(own.get("features") or []), list(model["features"]))
            )
        if kind == "text":
            if own.get("tokenizer_sha256") != model.get("tokenizer_sha256"):
                tokenizer = model_folder / model["tokenizer_file"] if model.get("tokenizer_file") else None
                fix = f"set `tokenizer: {tokenizer}` on input {input_name!r} in its domain file" if tokenizer else ""
                raise PreprocessingMismatch(
                    f"{where}: its text must be tokenized by the model's tokenizer, but it was tokenized by "
                    f"another (token ids would mean other words){'; ' + fix if fix else ''}"
                )
            stats.append(own)
        else:
            stats.append({**own, "mean": model.get("mean", own["mean"]), "std": model.get("std", own["std"])})
    return stats
