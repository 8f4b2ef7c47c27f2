"""Tokenizers for the text domains (Hugging Face `tokenizers` library).

DABS used the pretrained BERT-uncased WordPiece (vocab 30522) for English and XLM-R
(vocab 250002) for mC4/PAWS-X, both through `transformers`. We read the same models
from a Hugging Face `tokenizer.json` placed under the data root when one is there; when
none is, we train a lowercasing WordPiece tokenizer with BERT's normalizer and
pre-tokenizer on the pretraining corpus (special tokens [PAD]=0, [UNK], [CLS], [SEP],
[MASK]). A trained tokenizer is NOT BERT's: its vocabulary comes from the corpus it was
trained on, so token ids (and results) differ from DABS's, and it may have fewer than
30522 entries on a small corpus. Either way, items are `[CLS] a [SEP] (b [SEP])`,
truncated longest-first and padded to the sequence length.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Iterable, Sequence

import numpy as np

from dabs_lib.datasets.errors import DatasetFileError
from typing import Any

if TYPE_CHECKING:  # for annotations only; imported lazily where used
    from tokenizers import Tokenizer

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PAD_CANDIDATES = ("[PAD]", "<pad>")  # BERT's and XLM-R's padding tokens


def load_tokenizer(path: Path | str) -> Tokenizer:
    """A tokenizers.Tokenizer from a Hugging Face tokenizer.json."""
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_file(str(path))
    except Exception as error:  # the Rust side raises plain Exception subclasses
        raise DatasetFileError(path, f"is not a Hugging Face tokenizer.json ({error})") from error


def train_wordpiece(lines: Iterable[str], vocab_size: int, out_path: Path | str) -> Tokenizer:
    """Train a BERT-style uncased WordPiece tokenizer on `lines` and save it (atomically)."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors, trainers
    from tokenizers.models import WordPiece

    tokenizer = Tokenizer(WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=list(SPECIALS), show_progress=False)
    tokenizer.train_from_iterator(lines, trainer)
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    out_path = Path(out_path)
    tmp = out_path.with_name(out_path.name + ".tmp")
    tokenizer.save(str(tmp))
    os.replace(tmp, out_path)
    return tokenizer


def pad_id(tokenizer: Tokenizer) -> int:
    for token in PAD_CANDIDATES:
        index = tokenizer.token_to_id(token)
        if index is not None:
            return index
    raise ValueError(f"tokenizer must have one of the padding tokens {PAD_CANDIDATES}")


def token_dtype(vocab_size: int) -> type[np.unsignedinteger[Any]] | type[np.signedinteger[Any]]:
    """Smallest integer dtype that stores every id (halves the cache for BERT's vocabulary)."""
    return np.uint16 if vocab_size <= np.iinfo(np.uint16).max else np.int32


def encode(tokenizer: Tokenizer, texts: Sequence[str] | Sequence[tuple[str, str]], seq_len: int) -> np.ndarray:
    """(N, seq_len) ids: special tokens added, truncated longest-first, padded with the pad id."""
    tokenizer.enable_truncation(max_length=seq_len)
    pid = pad_id(tokenizer)
    tokenizer.enable_padding(length=seq_len, pad_id=pid, pad_token=tokenizer.id_to_token(pid))
    out = np.full((len(texts), seq_len), pid, dtype=token_dtype(tokenizer.get_vocab_size()))
    step = 10_000
    for start in range(0, len(texts), step):
        batch = tokenizer.encode_batch(list(texts[start : start + step]))
        out[start : start + len(batch)] = [item.ids for item in batch]
    return out
