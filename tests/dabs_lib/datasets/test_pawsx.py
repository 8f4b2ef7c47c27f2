import pytest
import torch

from dabs_lib.datasets import cache, pawsx
from dabs_lib.datasets.errors import DatasetFileError, ManualDownloadError
from dabs_lib.datasets.tokenizer import encode, load_tokenizer, train_wordpiece
from dabs_lib.embeddings import MultiEmbedding
from tests.dabs_lib.datasets.miniature_more import LANGUAGES, write_mc4, write_pawsx


@pytest.fixture
def text_root(tmp_path):
    write_mc4(tmp_path, lines=20)
    write_pawsx(tmp_path)
    return tmp_path


def test_pawsx_domain(text_root):
    domain = pawsx.build(data_root=str(text_root))
    spec = domain.specs[0]
    assert spec.seq_len == 128 and spec.pad_id == 0
    assert len(domain.pretrain) == 7 * 20  # every line / JSON document of every language
    assert set(domain.tasks) == {f"pawsx_{lang}" for lang in LANGUAGES}
    assert domain.averages["pawsx"] == tuple(f"pawsx_{lang}" for lang in LANGUAGES)
    for task in domain.tasks.values():
        assert (task.kind, task.metric, task.num_classes) == ("binary", "accuracy", 1)
        assert len(task.train) + len(task.val) == 20 and len(task.test) == 8  # the empty-sentence row dropped
    (tokens,), label = domain.tasks["pawsx_zh"].test[3]
    assert tokens.shape == (128,) and tokens.dtype == torch.int64 and int(label) == 1
    assert int((tokens == 3).sum()) == 2  # [CLS] a [SEP] b [SEP]
    (path,) = (text_root / "mc4" / "processed").glob("wordpiece-*/tokenizer.json")
    tokenizer = load_tokenizer(path)
    ids = encode(tokenizer, ["猫 が 고양이 chat katze"], 128)[0]
    assert int((ids > 4).sum()) >= 5 and not (ids == tokenizer.token_to_id("[UNK]")).any()  # every script covered
    zh_rows = [
        r for r in range(len(domain.pretrain)) if int(domain.pretrain[r][0][0][1]) == tokenizer.token_to_id("猫")
    ]
    assert zh_rows, "the zh .json.gz shards must be read"
    MultiEmbedding(domain.specs, 8)([tokens.unsqueeze(0)])


def test_given_xlmr_tokenizer_and_cache(text_root):
    folder = text_root / "xlm-roberta-base"
    folder.mkdir()
    tok = train_wordpiece(["le chat the cat 猫"] * 10, 60, folder / "tokenizer.json")
    domain = pawsx.build(data_root=str(text_root), smoke=True)
    assert domain.specs[0].vocab_size == tok.get_vocab_size()
    assert not list((text_root / "mc4" / "processed").glob("wordpiece-*"))
    before = dict(cache.PREPROCESS_COUNT)
    again = pawsx.build(data_root=str(text_root), smoke=True, seed=3)
    assert dict(cache.PREPROCESS_COUNT) == before
    assert again.tasks["pawsx_en"].test.fingerprint == domain.tasks["pawsx_en"].test.fingerprint


def test_missing_and_corrupt(text_root, tmp_path_factory):
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(ManualDownloadError, match="mc4.*allenai/c4"):
        pawsx.build(data_root=str(empty))
    (text_root / "pawsx" / "x-final" / "ko" / "dev_2k.tsv").unlink()
    with pytest.raises(ManualDownloadError, match="ko/dev_2k.tsv.*x-final.tar.gz"):
        pawsx.build(data_root=str(text_root))
    write_pawsx(text_root)
    shard = text_root / "mc4" / "zh" / "c4-zh.tfrecord-00001-of-01024.json.gz"
    shard.write_bytes(shard.read_bytes()[:-20])
    with pytest.raises(DatasetFileError, match="c4-zh.tfrecord-00001"):
        pawsx.build(data_root=str(text_root))
