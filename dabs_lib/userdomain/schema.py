"""A user's domain file (YAML) -> a typed, validated `DomainFile`; no Python needed.

One loader, `load_domain_file`, rejects unknown keys and wrong types with one line naming
the file and the key, e.g. "inputs[0].kind must be one of [...], but got 'imag' in
my/domain.yaml". Paths in the file are relative to the file's folder. docs/domains.md is
the reference of every key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

INPUT_KINDS = ("image", "timeseries", "text", "tabular", "audio")
USER_TASK_KINDS = ("multiclass", "binary", "multilabel", "regression")
SOURCE_KINDS = ("folder", "table", "array", "text")  # exactly one per source
ARRAY_KINDS = ("image", "timeseries", "tabular")  # the input kinds an .npy/.npz can hold
MISSING_RULES = ("refuse", "mean")  # tabular `missing:`: refuse a missing cell, or fill it with the feature's mean
MISSING_CELLS = ("", "na", "n/a", "nan", "null", "none", "?")  # table cells read as missing (any case, trimmed)
DEFAULT_METRIC = {"multiclass": "accuracy", "binary": "accuracy", "multilabel": "auroc", "regression": "pearson"}
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
SPLITS = ("train", "val", "test")


class DomainFileError(ValueError):
    """A domain file breaks a rule: the message names the file and the key."""


@dataclass(frozen=True)
class InputDecl:
    name: str  # also the table column that holds it (image/audio: a path; text: the text)
    kind: str  # one of INPUT_KINDS
    size: int = 0  # image/audio: side of the square fed to the encoder; 0 = the images' own (all equal)
    patch_size: int = 0  # image/audio: patch side; 0 = size // 4
    channels: int = 3  # image: 1 (grey) or 3 (RGB)
    segment_size: int = 0  # timeseries: samples per token; 0 = about 16 tokens per series
    seq_len: int = 64  # text: tokens per example, special tokens included
    tokenizer: str = "wordpiece"  # text: "wordpiece" (trained on the pretraining text) or a tokenizer.json
    vocab_size: int = 2000  # text: size of a trained wordpiece vocabulary
    columns: tuple[str, ...] = ()  # tabular: feature columns; () = every column that is not a label or split
    clip_seconds: float = 1.0  # audio: seconds kept from the start of each clip (shorter ones padded)
    key: str = ""  # an input from an .npz: the array's key; "" = the input's name
    missing: str = "refuse"  # tabular: one of MISSING_RULES ("mean": the mean of the feature's pretraining rows)
    categorical: tuple[str, ...] = ()  # tabular from a table: feature columns of categories, one-hot encoded


@dataclass(frozen=True)
class SourceDecl:
    """Where rows are: exactly one of folder / table / array / text (a path)."""

    kind: str  # one of SOURCE_KINDS
    path: Path


@dataclass(frozen=True)
class TaskDecl:
    name: str
    kind: str = "multiclass"  # one of USER_TASK_KINDS
    metric: str = ""  # "" = DEFAULT_METRIC[kind]
    label: str = "label"  # table column, .npz key or labels .npy; "folder" = the class folder names
    classes: tuple[str, ...] = ()  # declared classes; a label outside them is an error; () = those found
    separator: str = "|"  # multilabel: labels of one row joined by it


@dataclass(frozen=True)
class SplitDecl:
    column: str = ""  # a table column holding train/val/test per row (splits given by the user)
    val: float = 0.15  # drawn splits: fractions of the labelled rows (stratified for class tasks)
    test: float = 0.15
    seed: int = 42
    min_rows_per_class: int = 2  # every class needs this many rows in each split, or the split is refused


@dataclass(frozen=True)
class DomainFile:
    path: Path  # the YAML file, absolute
    name: str
    inputs: tuple[InputDecl, ...]
    data: SourceDecl  # the labelled rows
    tasks: tuple[TaskDecl, ...]
    split: SplitDecl
    unlabelled: SourceDecl | None = None  # extra rows for pretraining only
    batch_size: int = 0  # 0 = derived from the number of pretraining rows
    text: str = ""  # the file's text (recorded with the prepared data)


def _fail(rule: str, got: Any, key: str, path: Path) -> DomainFileError:
    return DomainFileError(f"{key} {rule}, but got {got!r} in {path}")


def _build(cls: type, raw: Any, key: str, path: Path, **extra: Any) -> Any:
    """cls(**raw) with unknown keys and wrong types refused, naming `key`."""
    if not isinstance(raw, dict):
        raise _fail("must be a mapping", raw, key, path)
    known = {f.name: f for f in fields(cls) if f.name not in extra}
    for name in raw:
        if name not in known:
            raise _fail(f"has unknown key {name!r}; the keys are {sorted(known)}", name, key, path)
    values = dict(extra)
    for name, value in raw.items():
        values[name] = _typed(value, known[name], f"{key}.{name}" if key else name, path)
    return cls(**values)


def _typed(value: Any, field: Any, key: str, path: Path) -> Any:
    kind = str(field.type)
    if kind.startswith("tuple"):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
            raise _fail("must be a list of names", value, key, path)
        return tuple(str(v) for v in value)
    expected = {"int": int, "float": (int, float), "str": str}[kind]
    if isinstance(value, bool) or not isinstance(value, expected):
        raise _fail(f"must be a{'n' if kind == 'int' else ''} {kind}", value, key, path)
    return float(value) if kind == "float" else value


def _choice(value: str, choices: tuple[str, ...], key: str, path: Path) -> None:
    if value not in choices:
        raise _fail(f"must be one of {list(choices)}", value, key, path)


def _source(raw: Any, key: str, path: Path) -> SourceDecl:
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in SOURCE_KINDS:
        raise _fail(f"must be a mapping with exactly one of {list(SOURCE_KINDS)}", raw, key, path)
    kind, where = next(iter(raw.items()))
    if not isinstance(where, str) or not where:
        raise _fail("must be a path (relative to the domain file)", where, f"{key}.{kind}", path)
    full = (path.parent / where).expanduser().resolve()
    if kind == "folder" and not full.is_dir():
        raise _fail("must be an existing folder", str(full), f"{key}.{kind}", path)
    if kind != "folder" and not full.is_file():
        raise _fail("must be an existing file", str(full), f"{key}.{kind}", path)
    return SourceDecl(kind, full)


def _check_input(decl: InputDecl, key: str, path: Path) -> None:
    _choice(decl.kind, INPUT_KINDS, f"{key}.kind", path)
    rules = [
        (decl.size >= 0, "size", "must be >= 0", decl.size),
        (decl.patch_size >= 0, "patch_size", "must be >= 0", decl.patch_size),
        (decl.channels in (1, 3), "channels", "must be 1 or 3", decl.channels),
        (decl.segment_size >= 0, "segment_size", "must be >= 0", decl.segment_size),
        (decl.seq_len >= 4, "seq_len", "must be >= 4", decl.seq_len),
        (decl.vocab_size >= 100, "vocab_size", "must be >= 100", decl.vocab_size),
        (decl.clip_seconds > 0, "clip_seconds", "must be > 0", decl.clip_seconds),
        (decl.kind == "audio" or decl.size == 0 or decl.size >= 4, "size", "must be >= 4", decl.size),
    ]
    for ok, name, rule, got in rules:
        if not ok:
            raise _fail(rule, got, f"{key}.{name}", path)
    _choice(decl.missing, MISSING_RULES, f"{key}.missing", path)
    if decl.missing != "refuse" and decl.kind != "tabular":
        raise _fail(
            "applies to tabular inputs only (other kinds refuse missing values)", decl.missing, f"{key}.missing", path
        )
    if decl.categorical and decl.kind != "tabular":
        raise _fail("applies to tabular inputs only", list(decl.categorical), f"{key}.categorical", path)
    size = decl.size or (64 if decl.kind == "audio" else 0)
    if size and decl.patch_size and size % decl.patch_size:
        raise _fail(f"must divide size {size}", decl.patch_size, f"{key}.patch_size", path)
    if decl.kind == "audio" and size < 8:
        raise _fail("must be >= 8 for audio", decl.size, f"{key}.size", path)


def _inputs(raw: Any, path: Path) -> tuple[InputDecl, ...]:
    if not isinstance(raw, list) or not raw:
        raise _fail("must be a non-empty list of inputs", raw, "inputs", path)
    out = []
    for i, item in enumerate(raw):
        if isinstance(item, dict) and not isinstance(item.get("name", ""), str):
            raise _fail("must be a string", item["name"], f"inputs[{i}].name", path)
        if isinstance(item, dict) and "name" not in item:
            raise _fail("must be given (the column that holds the input)", None, f"inputs[{i}].name", path)
        decl = _build(InputDecl, item, f"inputs[{i}]", path)
        _check_input(decl, f"inputs[{i}]", path)
        out.append(decl)
    names = [d.name for d in out]
    if len(set(names)) != len(names):
        raise _fail("must be unique", names, "inputs[].name", path)
    return tuple(out)


def _tasks(raw: Any, path: Path) -> tuple[TaskDecl, ...]:
    if not isinstance(raw, list) or not raw:
        raise _fail("must be a non-empty list of transfer tasks", raw, "tasks", path)
    out = []
    for i, item in enumerate(raw):
        key = f"tasks[{i}]"
        if isinstance(item, dict) and "name" not in item:
            raise _fail("must be given", None, f"{key}.name", path)
        decl = _build(TaskDecl, item, key, path)
        if not NAME.fullmatch(decl.name):
            raise _fail(f"must match {NAME.pattern}", decl.name, f"{key}.name", path)
        _choice(decl.kind, USER_TASK_KINDS, f"{key}.kind", path)
        if decl.metric:
            from dabs_lib.domains.base import (
                METRIC_DIRECTIONS,  # imports torch: only when a metric is named
            )

            _choice(decl.metric, tuple(sorted(METRIC_DIRECTIONS)), f"{key}.metric", path)
        if len(set(decl.classes)) != len(decl.classes):
            raise _fail("must not repeat a class", list(decl.classes), f"{key}.classes", path)
        out.append(decl)
    if len({t.name for t in out}) != len(out):
        raise _fail("must be unique", [t.name for t in out], "tasks[].name", path)
    return tuple(out)


def _check_sources(domain: DomainFile) -> None:
    path, kinds = domain.path, [d.kind for d in domain.inputs]
    if domain.data.kind == "folder" and (len(kinds) != 1 or kinds[0] not in ("image", "audio")):
        raise _fail("(a folder per class) holds one image or audio input", kinds, "data.folder", path)
    if domain.data.kind == "folder" and any(t.label != "folder" for t in domain.tasks):
        raise _fail(
            "must be 'folder' when data is a folder per class", [t.label for t in domain.tasks], "tasks[].label", path
        )
    if domain.data.kind == "array" and any(k not in ARRAY_KINDS for k in kinds):
        raise _fail(f"(.npy/.npz) holds {', '.join(ARRAY_KINDS)} inputs", kinds, "data.array", path)
    if domain.data.kind == "text":
        raise _fail(
            "must be a labelled source (folder, table or array); plain text is unlabelled", "text", "data", path
        )
    if domain.unlabelled is not None and domain.unlabelled.kind == "text" and kinds != ["text"]:
        raise _fail("(plain text) needs a domain whose one input is text", kinds, "unlabelled.text", path)
    if domain.split.column and domain.data.kind != "table":
        raise _fail("needs data.table (a column of the table)", domain.split.column, "split.column", path)
    if not (0 < domain.split.val < 1 and 0 < domain.split.test < 1 and domain.split.val + domain.split.test < 1):
        raise _fail(
            "must hold 0 < val, 0 < test and val + test < 1",
            (domain.split.val, domain.split.test),
            "split.val/split.test",
            path,
        )


def load_domain_file(path: Path | str) -> DomainFile:
    """Read and validate a domain file; DomainFileError names the file and the key."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise DomainFileError(f"a domain file must be an existing .yaml file, but got {str(path)!r}")
    try:
        text = path.read_text(encoding="utf-8-sig")
        raw = yaml.safe_load(text)
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise DomainFileError(f"{path} must be UTF-8 YAML, but: {str(error).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise _fail("must be a mapping of keys (name, inputs, data, tasks, ...)", type(raw).__name__, "the file", path)
    allowed = ("name", "inputs", "data", "unlabelled", "tasks", "split", "batch_size")
    for key in raw:
        if key not in allowed:
            raise DomainFileError(f"unknown key {key!r} in {path}; the keys are {list(allowed)}")
    for key in ("inputs", "data", "tasks"):
        if key not in raw:
            raise _fail("must be given", None, key, path)
    name = raw.get("name", path.stem.lower().replace("-", "_"))
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise _fail(f"must match {NAME.pattern} (lower case letters, digits, _)", name, "name", path)
    batch = raw.get("batch_size", 0)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 0:
        raise _fail("must be an int >= 0", batch, "batch_size", path)
    domain = DomainFile(
        path=path,
        name=name,
        inputs=_inputs(raw["inputs"], path),
        data=_source(raw["data"], "data", path),
        tasks=_tasks(raw["tasks"], path),
        split=_build(SplitDecl, raw.get("split") or {}, "split", path),
        unlabelled=_source(raw["unlabelled"], "unlabelled", path) if raw.get("unlabelled") is not None else None,
        batch_size=batch,
        text=text,
    )
    _check_sources(domain)
    return domain
