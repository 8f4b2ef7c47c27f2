"""A text input -> (N, seq_len) token ids with the project's tokenizer or the user's tokenizer.json.

`tokenizer: wordpiece` trains the project's BERT-style WordPiece (dabs_lib.datasets.tokenizer)
on the pretraining rows' text and stores it beside the ids (`<input>.tokenizer.json`);
a path loads the user's Hugging Face `tokenizers` JSON. Items are `[CLS] text [SEP]`,
truncated and padded to seq_len (a user tokenizer adds its own specials).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import numpy as np

from dabs_lib.datasets.tokenizer import encode, load_tokenizer, pad_id, train_wordpiece
from dabs_lib.specs import Spec, TokensSpec
from dabs_lib.userdomain.inputs import Column
from dabs_lib.userdomain.rows import DomainDataError

BATCH = 4096  # texts tokenized at once


def _texts(column: Column) -> list[str]:
    out = []
    for value, where in zip(column.values, column.where):
        if value is None or not str(value).strip():
            raise DomainDataError(where, f"column {column.decl.name!r} is empty (every row needs its text)")
        out.append(str(value))
    return out


def text_input(
    writer: Any,
    name: str,
    column: Column,
    pool: Executor | None,
    tick: Callable[[int], None],
    domain_folder: Any = None,
) -> tuple[Spec, dict[str, Any]]:
    decl, texts = column.decl, _texts(column)
    if decl.tokenizer == "wordpiece":
        corpus = [t for t, keep in zip(texts, column.pretrain) if keep]
        tokenizer = train_wordpiece(iter(corpus), decl.vocab_size, writer.folder / f"{name}.tokenizer.json")
    else:
        path = (domain_folder / decl.tokenizer) if domain_folder is not None else decl.tokenizer
        tokenizer = load_tokenizer(path)
    vocab = tokenizer.get_vocab_size()
    try:
        pad = pad_id(tokenizer)
    except ValueError as error:
        raise DomainDataError(decl.tokenizer, str(error)) from None
    out = writer.create(name, (len(texts), decl.seq_len), np.int32 if vocab > 65535 else np.uint16)
    lengths = np.zeros(len(texts), dtype=np.int64)
    for start in range(0, len(texts), BATCH):
        ids = encode(tokenizer, texts[start : start + BATCH], decl.seq_len)
        out[start : start + len(ids)] = ids
        lengths[start : start + len(ids)] = (ids != pad).sum(axis=1)
        tick(len(ids))
    keep = column.pretrain
    pretrain_ids = np.asarray(out[keep]) if keep.any() else np.asarray(out)
    if len(np.unique(pretrain_ids, axis=0)) < 2:
        raise DomainDataError(
            column.where[0].split(" row ")[0],
            f"input {decl.name!r}: every pretraining text is the "
            "same token sequence (constant input); nothing can be learned from it",
        )
    stats = {
        "tokenizer_sha256": hashlib.sha256(tokenizer.to_str().encode()).hexdigest(),  # which ids mean which words
        "vocab_size": vocab,
        "pad_id": pad,
        "tokens_mean": float(lengths.mean()),
        "truncated": float((lengths >= decl.seq_len).mean()),
    }
    return TokensSpec(seq_len=decl.seq_len, vocab_size=vocab, pad_id=pad), stats
