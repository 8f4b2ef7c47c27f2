"""English text: WikiText-103 pretraining, the 10 GLUE tasks for transfer (128 tokens).

WikiText-103 is read from `wikitext-103/wiki.train.tokens` (the corpus Hugging Face calls
`wikitext-103-v1`); as in DABS each non-blank line is one example, truncated/padded to
128 tokens. The tokenizer is BERT-uncased's when `<data_root>/bert-base-uncased/tokenizer.json`
exists; otherwise a WordPiece tokenizer is trained once on the WikiText-103 train lines
(see dabs_lib/datasets/tokenizer.py for how that differs from DABS).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from pathlib import Path


from dabs_lib.datasets.cache import ensure_processed, source_signature
from dabs_lib.datasets.catalog_text import BERT_TOKENIZER, WIKITEXT as SOURCE
from dabs_lib.datasets.common import resolve_root, token_pretrain_split
from dabs_lib.datasets.download import file_digest
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.glue import GLUE_TASKS, glue_tasks
from dabs_lib.datasets.textfiles import text_lines
from dabs_lib.datasets.tokenizer import encode, load_tokenizer, pad_id, train_wordpiece
from dabs_lib.domains.base import Domain
from dabs_lib.specs import TokensSpec
from dabs_lib.datasets.cache import ArrayWriter, Processed
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only
    from tokenizers import Tokenizer

SEQ_LEN = 128
BERT_VOCAB = 30522
SMOKE_LINES = 2000  # smoke builds tokenize (and train a tokenizer on) this many lines only
CHUNK = 50_000  # lines tokenized at a time


def corpus_lines(path: Path, limit: int | None = None) -> Iterator[str]:
    """Non-blank lines of a WikiText file (Hugging Face maps blank lines to "" and DABS drops them)."""
    yield from text_lines(path, limit)


def english_tokenizer(root: Path, corpus: Path, limit: int | None) -> tuple[Tokenizer, str]:
    """(tokenizer, identity): BERT-uncased's tokenizer.json if present, else one trained on the corpus."""
    given = BERT_TOKENIZER.folder(root) / "tokenizer.json"
    if given.exists():
        return load_tokenizer(given), "sha256:" + file_digest(given, "sha256")

    def build(writer: ArrayWriter) -> None:
        train_wordpiece(corpus_lines(corpus, limit), BERT_VOCAB, writer.folder / "tokenizer.json")

    params = {"version": 1, "vocab": BERT_VOCAB, "limit": limit, "source": source_signature([corpus])}
    processed = ensure_processed(root, SOURCE.name, "wordpiece", params, build)
    return load_tokenizer(processed.folder / "tokenizer.json"), "trained:" + processed.fingerprint


def _pretrain_tokens(root: Path, corpus: Path, tokenizer: Tokenizer, tokenizer_id: str, limit: int | None) -> Processed:
    def build(writer: ArrayWriter) -> None:
        count = sum(1 for _ in corpus_lines(corpus, limit))
        probe = encode(tokenizer, ["x"], SEQ_LEN)
        out = writer.create("tokens", (count, SEQ_LEN), probe.dtype)
        lines, start = corpus_lines(corpus, limit), 0
        while chunk := list(islice(lines, CHUNK)):
            out[start : start + len(chunk)] = encode(tokenizer, chunk, SEQ_LEN)
            start += len(chunk)

    params = {
        "version": 1,
        "tokenizer": tokenizer_id,
        "seq_len": SEQ_LEN,
        "limit": limit,
        "source": source_signature([corpus]),
    }
    return ensure_processed(root, SOURCE.name, "train-tokens", params, build)


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """WikiText-103 -> GLUE; TokensSpec(128, vocab of the tokenizer)."""
    root = resolve_root(data_root)
    corpus = SOURCE.check(root) / SOURCE.required[0]
    if next(corpus_lines(corpus, 1), None) is None:  # before a tokenizer is trained on nothing and cached
        raise DatasetFileError(corpus, "has no non-blank line, but the pretraining corpus must hold text")
    limit = SMOKE_LINES if smoke else None
    tokenizer, tokenizer_id = english_tokenizer(root, corpus, limit)
    processed = _pretrain_tokens(root, corpus, tokenizer, tokenizer_id, limit)
    pretrain = token_pretrain_split(processed, "wikitext103/pretrain", smoke)
    tasks = glue_tasks(root, tokenizer, tokenizer_id, SEQ_LEN, seed, smoke)
    spec = TokensSpec(seq_len=SEQ_LEN, vocab_size=tokenizer.get_vocab_size(), pad_id=pad_id(tokenizer))
    return Domain(
        name="wikitext103",
        specs=(spec,),
        pretrain=pretrain,
        tasks=tasks,
        averages={"glue": tuple(GLUE_TASKS)},
        batch_size=128,
    )
