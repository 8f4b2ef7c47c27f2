"""Multilingual text: mC4 pretraining from a local folder; PAWS-X transfer in 7 languages (128 tokens).

DABS streamed mC4 (en fr de zh es ja ko) from the web; we read a local copy instead,
`<data_root>/mc4/`, one entry per language, either `<lang>.txt` (one example per non-blank
line) or a folder `<lang>/` of mC4's `*.json.gz` shards (JSON lines, the document in "text"),
e.g. `huggingface-cli download allenai/c4 --repo-type dataset --include "multilingual/c4-fr.tfrecord-0000*"`
moved to `mc4/fr/`. Each line or document is one example, truncated to 128 tokens.

PAWS-X (`<data_root>/pawsx/x-final/<lang>/`): English `train.tsv`, the others
`translated_train.tsv`, and `dev_2k.tsv` for every language (columns id, sentence1,
sentence2, label); DABS trained on train and reported on dev (our test); validation is carved
from train. Rows with an empty sentence or a label other than 0/1 are dropped. One binary task
per language (`pawsx_<lang>`, accuracy); `averages["pawsx"]` lists the seven.

Tokenizer: XLM-R's (vocab 250002) when `<data_root>/xlm-roberta-base/tokenizer.json` exists,
else a WordPiece trained once on the mC4 examples (see tokenizer.py for how that differs).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import numpy as np

from dabs_lib.datasets.cache import ensure_processed, source_signature
from dabs_lib.datasets.catalog_text import LANGUAGES, MC4, PAWSX, XLMR_TOKENIZER
from dabs_lib.datasets.common import make_task, resolve_root, shrink, token_pretrain_split
from dabs_lib.datasets.download import file_digest
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.glue import GlueTask, parse
from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.datasets.textfiles import text_lines
from dabs_lib.datasets.tokenizer import encode, load_tokenizer, pad_id, train_wordpiece
from dabs_lib.datasets.transforms import AsType
from dabs_lib.domains.base import Domain
from dabs_lib.specs import TokensSpec
from dabs_lib.datasets.cache import ArrayWriter, Processed
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only
    from tokenizers import Tokenizer

SEQ_LEN = 128
XLMR_VOCAB = 250_002
SMOKE_LINES = 300  # smoke builds read this many examples per language
CHUNK = 50_000

PAWS_TASK = GlueTask("x-final", ("sentence1", "sentence2"), "label", "binary", "accuracy", 1)


def corpus_files(root: str | Path) -> list[Path]:
    """Every mC4 file, languages in LANGUAGES order, shards sorted."""
    files = []
    for lang in LANGUAGES:
        path = MC4.find(root, f"{lang}.txt|{lang}")
        files += sorted(path.glob("*.json.gz")) if path.is_dir() else [path]
    return files


def _examples(path: Path) -> Iterator[str]:
    if path.suffix == ".txt":
        yield from (line.strip() for line in text_lines(path))
        return
    try:
        for line in text_lines(path, compressed=True):
            yield json.loads(line)["text"]
    except DatasetFileError:
        raise
    except (OSError, EOFError, ValueError, KeyError) as error:
        raise DatasetFileError(
            path, f"must be gzipped JSON lines with a 'text' field ({type(error).__name__}: {error})"
        ) from error


def corpus(files: list[Path], limit: int | None) -> Iterator[str]:
    """Examples of each language (at most `limit` per language), in file order."""
    by_lang: dict[str, list[Path]] = {}
    for path in files:
        lang = path.stem if path.suffix == ".txt" else path.parent.name
        by_lang.setdefault(lang, []).append(path)
    for paths in by_lang.values():
        yield from islice((text for path in paths for text in _examples(path)), limit)


def multilingual_tokenizer(root: Path, files: list[Path], limit: int | None) -> tuple[Tokenizer, str]:
    """(tokenizer, identity): XLM-R's tokenizer.json if present, else WordPiece trained on the mC4 sample."""
    given = XLMR_TOKENIZER.folder(root) / "tokenizer.json"
    if given.exists():
        return load_tokenizer(given), "sha256:" + file_digest(given, "sha256")

    def build(writer: ArrayWriter) -> None:
        train_wordpiece(corpus(files, limit), XLMR_VOCAB, writer.folder / "tokenizer.json")

    params = {"version": 1, "vocab": XLMR_VOCAB, "limit": limit, "source": source_signature(files)}
    processed = ensure_processed(root, MC4.name, "wordpiece", params, build)
    return load_tokenizer(processed.folder / "tokenizer.json"), "trained:" + processed.fingerprint


def _pretrain(root: Path, files: list[Path], tokenizer: Tokenizer, tokenizer_id: str, limit: int | None) -> Processed:
    def build(writer: ArrayWriter) -> None:
        count = sum(1 for _ in corpus(files, limit))
        out = writer.create("tokens", (count, SEQ_LEN), encode(tokenizer, ["x"], SEQ_LEN).dtype)
        texts, start = corpus(files, limit), 0
        while chunk := list(islice(texts, CHUNK)):
            out[start : start + len(chunk)] = encode(tokenizer, chunk, SEQ_LEN)
            start += len(chunk)

    params = {
        "version": 1,
        "tokenizer": tokenizer_id,
        "seq_len": SEQ_LEN,
        "limit": limit,
        "source": source_signature(files),
    }
    return ensure_processed(root, MC4.name, "train-tokens", params, build)


def _paws_split(
    root: str | Path, rel: str, tokenizer: Tokenizer, tokenizer_id: str, name: str, smoke: bool
) -> MemmapSplit:
    path = PAWSX.folder(root) / rel

    def build(writer: ArrayWriter) -> None:
        texts, labels = parse(PAWS_TASK, path)
        keep = [i for i, y in enumerate(labels) if y in (0, 1)]
        writer.save("tokens", encode(tokenizer, [texts[i] for i in keep], SEQ_LEN))
        writer.save("labels", labels[keep])

    params = {"version": 1, "tokenizer": tokenizer_id, "seq_len": SEQ_LEN, "source": source_signature([path])}
    processed = ensure_processed(root, PAWSX.name, rel.replace("/", "-").rsplit(".", 1)[0], params, build)
    labels = processed.load("labels", mmap=False)
    field = Field(str(processed.path("tokens")), transform=AsType("int64"))
    return shrink(MemmapSplit(name, (field,), np.arange(len(labels)), labels, processed.fingerprint), smoke)


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """mC4 (local) -> PAWS-X en fr de zh es ja ko (binary, accuracy); TokensSpec(128, tokenizer's vocab)."""
    root = resolve_root(data_root)
    MC4.check(root)
    PAWSX.check(root)
    files = corpus_files(root)
    limit = SMOKE_LINES if smoke else None
    tokenizer, tokenizer_id = multilingual_tokenizer(root, files, limit)
    processed = _pretrain(root, files, tokenizer, tokenizer_id, limit)
    pretrain = token_pretrain_split(processed, "mc4/pretrain", smoke)
    tasks = {}
    for lang, train_rel, test_rel in zip(LANGUAGES, PAWSX.required[:7], PAWSX.required[7:]):
        name = f"pawsx_{lang}"
        train = _paws_split(root, train_rel, tokenizer, tokenizer_id, f"{name}/train", smoke)
        test = _paws_split(root, test_rel, tokenizer, tokenizer_id, f"{name}/test", smoke)
        tasks[name] = make_task(name, "binary", "accuracy", 1, train, test, seed)
    spec = TokensSpec(seq_len=SEQ_LEN, vocab_size=tokenizer.get_vocab_size(), pad_id=pad_id(tokenizer))
    return Domain(
        name="pawsx", specs=(spec,), pretrain=pretrain, tasks=tasks, averages={"pawsx": tuple(tasks)}, batch_size=128
    )
