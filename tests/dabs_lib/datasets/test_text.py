import pytest
import torch

from dabs_lib.datasets import cache, glue, wikitext
from dabs_lib.datasets.errors import DatasetFileError, ManualDownloadError
from dabs_lib.datasets.tokenizer import train_wordpiece
from tests.dabs_lib.datasets.miniature import write_glue, write_wikitext

EXPECTED = {  # task -> (kind, metric, num_classes)
    "sst2": ("binary", "accuracy", 1),
    "cola": ("binary", "mcc", 1),
    "mrpc": ("binary", "accuracy", 1),
    "qqp": ("binary", "accuracy", 1),
    "stsb": ("regression", "spearman", 1),
    "mnli_matched": ("multiclass", "accuracy", 3),
    "mnli_mismatched": ("multiclass", "accuracy", 3),
    "qnli": ("binary", "accuracy", 1),
    "rte": ("binary", "accuracy", 1),
    "wnli": ("binary", "accuracy", 1),
}


@pytest.fixture
def text_root(tmp_path):
    write_wikitext(tmp_path)
    write_glue(tmp_path, train=30, dev=10)
    return tmp_path


def test_wikitext_glue_domain(text_root):
    domain = wikitext.build(data_root=str(text_root))
    spec = domain.specs[0]
    assert spec.seq_len == 128 and spec.pad_id == 0 and 10 < spec.vocab_size <= 30522
    assert len(domain.pretrain) == 60  # 30 articles x (heading + text line); blank lines dropped
    (tokens,), label = domain.pretrain[1]
    assert tokens.shape == (128,) and tokens.dtype == torch.int64 and int(label) == -1
    assert int(tokens[0]) == 2 and int((tokens != 0).sum()) > 5  # [CLS] first, then text, then [PAD]=0
    assert {n: (t.kind, t.metric, t.num_classes) for n, t in domain.tasks.items()} == EXPECTED
    assert domain.averages["glue"] == tuple(EXPECTED) and domain.default_task == "sst2"
    for name, task in domain.tasks.items():
        assert len(task.train) + len(task.val) == 30 and len(task.val) == 3 and len(task.test) == 10, name
        (tokens,), label = task.test[0]
        assert tokens.shape == (128,) and int(tokens.max()) < spec.vocab_size
    assert domain.tasks["stsb"].test[2][1].dtype == torch.float32
    assert abs(float(domain.tasks["stsb"].test[2][1]) - 1.6) < 1e-6
    assert [int(domain.tasks["mnli_matched"].test[i][1]) for i in range(3)] == [0, 1, 2]
    assert [int(domain.tasks["rte"].test[i][1]) for i in range(2)] == [0, 1]


def test_sentence_pairs_have_two_separators(text_root):
    domain = wikitext.build(data_root=str(text_root))
    (tokens,), _ = domain.tasks["rte"].test[0]
    assert int((tokens == 3).sum()) == 2  # [CLS] a [SEP] b [SEP]
    (tokens,), _ = domain.tasks["sst2"].test[0]
    assert int((tokens == 3).sum()) == 1


def test_given_tokenizer_json_is_used(text_root):
    folder = text_root / "bert-base-uncased"
    folder.mkdir()
    corpus = ["alpha beta gamma delta"] * 20
    tok = train_wordpiece(corpus, 40, folder / "tokenizer.json")
    domain = wikitext.build(data_root=str(text_root), smoke=True)
    assert domain.specs[0].vocab_size == tok.get_vocab_size()
    assert not list((text_root / "wikitext103" / "processed").glob("wordpiece-*"))  # nothing trained


def test_second_build_does_no_preprocessing(text_root):
    wikitext.build(data_root=str(text_root))
    before = dict(cache.PREPROCESS_COUNT)
    wikitext.build(data_root=str(text_root), seed=7)
    assert dict(cache.PREPROCESS_COUNT) == before


def test_missing_and_truncated_glue_files(text_root):
    (text_root / "glue" / "RTE" / "dev.tsv").unlink()
    with pytest.raises(ManualDownloadError, match="RTE/dev.tsv") as info:
        wikitext.build(data_root=str(text_root))
    assert "download_glue_data.py" in str(info.value)
    write_glue(text_root)
    path = text_root / "glue" / "QNLI" / "train.tsv"
    text = path.read_text()
    path.write_text(text[: text.rindex("\t")])  # cut inside the last row
    with pytest.raises(DatasetFileError, match="QNLI/train.tsv.*truncated"):
        wikitext.build(data_root=str(text_root))


def test_read_tsv_keeps_quotes_and_drops_rare_bad_rows(tmp_path):
    path = tmp_path / "x.tsv"
    rows = ["sentence\tlabel"] + [f'he said "hi {i}\t1' for i in range(200)] + ["broken row", 'ok "end"\t0']
    path.write_text("\n".join(rows) + "\n")
    columns, good = glue.read_tsv(path, header=True)
    assert columns == ["sentence", "label"] and len(good) == 201 and good[0][0] == 'he said "hi 0'
    path.write_text("a\tb\n" + "x\n" * 10 + "y\tz\n")
    with pytest.raises(DatasetFileError, match="10 of 11 rows"):
        glue.read_tsv(path, header=True)


def test_each_glue_file_is_tokenized_once(text_root):
    """MNLI's train.tsv serves mnli_matched and mnli_mismatched: one cache entry, one tokenization."""
    before = dict(cache.PREPROCESS_COUNT)
    domain = wikitext.build(data_root=str(text_root))
    built = {k: n - before.get(k, 0) for k, n in cache.PREPROCESS_COUNT.items() if k.startswith("glue/")}
    assert built["glue/MNLI-train"] == 1
    assert all(n == 1 for n in built.values()), built
    files = {f"{t.folder}/{f}" for t in glue.GLUE_TASKS.values() for f in ("train.tsv", t.test_file)}
    entries = [p for p in (text_root / "glue" / "processed").iterdir() if not p.name.startswith(".")]
    assert len(entries) == len(files) == 19  # 9 train.tsv + 10 test files
    matched, mismatched = domain.tasks["mnli_matched"], domain.tasks["mnli_mismatched"]
    assert len(matched.train) == len(mismatched.train) and len(matched.test) == len(mismatched.test) == 10
