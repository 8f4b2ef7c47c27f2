"""Writers of miniature datasets in their real on-disk layout and format (for the loader tests)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np


def write_cifar(root: Path, per_batch: int = 12, test: int = 20) -> Path:
    """cifar10/cifar-10-batches-py/{data_batch_1..5,test_batch} as pickled dicts of uint8 rows."""
    folder = root / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        n = test if name == "test_batch" else per_batch
        labels = [int(i % 10) for i in range(n)]
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        batch = {
            b"batch_label": name.encode(),
            b"labels": labels,
            b"data": data,
            b"filenames": [f"{i}.png".encode() for i in range(n)],
        }
        with open(folder / name, "wb") as handle:
            pickle.dump(batch, handle, protocol=2)
    return folder


PAMAP2_SUBJECTS = (1, 2, 3, 4, 5, 7, 8, 9)


def write_pamap2(root: Path, run: int = 700) -> Path:
    """pamap2/PAMAP2_Dataset/Protocol/subject10N.dat: 54 space-separated columns, NaN gaps.

    Each subject: 15 transient rows (activity 0), a run of activity 1, 10 transient rows, a
    run of activity 17 (ironing); heart rate is NaN except every 10th row (as the real ~9 Hz).
    """
    folder = root / "pamap2" / "PAMAP2_Dataset" / "Protocol"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for subject in PAMAP2_SUBJECTS:
        activity = np.concatenate([np.zeros(15), np.full(run, 1), np.zeros(10), np.full(run, 17)])
        n = len(activity)
        values = rng.normal(size=(n, 54)).round(5)
        values[:, 0] = np.arange(n) / 100.0
        values[:, 1] = activity
        values[:, 2] = np.where(np.arange(n) % 10 == 3, 100 + subject, np.nan)
        values[5, 10] = np.nan  # an IMU dropout inside the series
        lines = [" ".join("NaN" if np.isnan(v) else f"{v:g}" for v in row) for row in values]
        (folder / f"subject10{subject}.dat").write_text("\n".join(lines) + "\n")
    return folder


_WORDS = [
    "the",
    "a",
    "cat",
    "dog",
    "sat",
    "on",
    "mat",
    "ran",
    "fast",
    "slow",
    "red",
    "blue",
    "big",
    "small",
    "house",
    "tree",
    "river",
    "over",
    "under",
    "quickly",
]


def _sentence(rng, n: int = 6) -> str:
    return " ".join(rng.choice(_WORDS, size=n))


def write_wikitext(root: Path, articles: int = 30) -> Path:
    """wikitext103/wikitext-103/wiki.train.tokens: ' = Title = ' headings, ' ' blank lines, text lines."""
    folder = root / "wikitext103" / "wikitext-103"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2)
    lines = []
    for i in range(articles):
        lines += [" ", f" = Article {i} = ", " ", " " + " . ".join(_sentence(rng) for _ in range(4)) + " . ", " "]
    (folder / "wiki.train.tokens").write_text("\n".join(lines) + "\n")
    return folder / "wiki.train.tokens"


def _glue_rows(task: str, rng, n: int) -> tuple[list[str] | None, list[list[str]]]:
    s = lambda: _sentence(rng)  # noqa: E731
    nli = ["entailment", "neutral", "contradiction"]
    if task == "CoLA":
        return None, [["gj04", str(i % 2), "" if i % 2 else "*", s()] for i in range(n)]
    if task == "SST-2":
        return ["sentence", "label"], [[s(), str(i % 2)] for i in range(n)]
    if task == "MRPC":
        return ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"], [
            [str(i % 2), "1", "2", s(), s()] for i in range(n)
        ]
    if task == "QQP":
        return ["id", "qid1", "qid2", "question1", "question2", "is_duplicate"], [
            [str(i), "1", "2", s(), s(), str(i % 2)] for i in range(n)
        ]
    if task == "STS-B":
        head = [
            "index",
            "genre",
            "filename",
            "year",
            "old_index",
            "source1",
            "source2",
            "sentence1",
            "sentence2",
            "score",
        ]
        return head, [
            [str(i), "main-news", "f", "2012", "0", "none", "none", s(), s(), f"{(i % 6) * 0.8:.3f}"] for i in range(n)
        ]
    if task == "MNLI":
        head = [
            "index",
            "promptID",
            "pairID",
            "genre",
            "sentence1_binary_parse",
            "sentence2_binary_parse",
            "sentence1_parse",
            "sentence2_parse",
            "sentence1",
            "sentence2",
            "label1",
            "gold_label",
        ]
        return head, [
            [str(i), "1", "1e", "fiction", "( x )", "( y )", "(ROOT x)", "(ROOT y)", s(), s(), nli[i % 3], nli[i % 3]]
            for i in range(n)
        ]
    if task == "QNLI":
        return ["index", "question", "sentence", "label"], [
            [str(i), s() + " ?", s(), ["entailment", "not_entailment"][i % 2]] for i in range(n)
        ]
    if task == "RTE":
        return ["index", "sentence1", "sentence2", "label"], [
            [str(i), s(), s(), ["entailment", "not_entailment"][i % 2]] for i in range(n)
        ]
    return ["index", "sentence1", "sentence2", "label"], [[str(i), s(), s(), str(i % 2)] for i in range(n)]  # WNLI


GLUE_FILES = {
    "CoLA": ("train", "dev"),
    "SST-2": ("train", "dev"),
    "MRPC": ("train", "dev"),
    "QQP": ("train", "dev"),
    "STS-B": ("train", "dev"),
    "MNLI": ("train", "dev_matched", "dev_mismatched"),
    "QNLI": ("train", "dev"),
    "RTE": ("train", "dev"),
    "WNLI": ("train", "dev"),
}


def write_glue(root: Path, train: int = 30, dev: int = 10) -> Path:
    """glue/<TASK>/{train,dev}.tsv (MNLI: dev_matched/dev_mismatched), tab-separated, GLUE's headers.

    As the real release ships them: MRPC's files begin with a UTF-8 byte-order mark, text holds
    unbalanced double quotes (GLUE's TSVs are not CSV-quoted), and files end with a newline."""
    rng = np.random.default_rng(3)
    for task, files in GLUE_FILES.items():
        folder = root / "glue" / task
        folder.mkdir(parents=True, exist_ok=True)
        for name in files:
            header, rows = _glue_rows(task, rng, train if name == "train" else dev)
            if rows and len(rows[0]) > 1:
                rows[0][-2] = '"' + rows[0][-2]  # an unbalanced quote inside a text field
            lines = ([header] if header else []) + rows
            bom = "\ufeff" if task == "MRPC" else ""
            (folder / f"{name}.tsv").write_text(bom + "\n".join("\t".join(r) for r in lines) + "\n", encoding="utf-8")
    return root / "glue"


def write_higgs(root: Path, rows: int = 200) -> Path:
    """higgs/HIGGS.csv.gz: no header; label (1.0/0.0) then 28 features, as UCI ships it."""
    import gzip

    rng = np.random.default_rng(8)
    table = rng.normal(size=(rows, 29)).round(6)
    table[:, 0] = np.arange(rows) % 2
    table[:, 1] = np.arange(rows)  # feature 0 = row number, so tests can see which rows went where
    path = root / "higgs" / "HIGGS.csv.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(",".join(f"{v:.18e}" for v in row) for row in table) + "\n"
    with gzip.open(path, "wt") as handle:
        handle.write(text)
    return path


def write_genomics(root: Path, rows: dict | None = None) -> Path:
    """genomics/genomics{Pretrain,TransferID,TransferOOD}.csv as pandas' to_csv of tfds.as_dataframe."""
    rows = rows or {
        "genomicsPretrain.csv": (40, 0, 10),
        "genomicsTransferID.csv": (30, 0, 10),
        "genomicsTransferOOD.csv": (30, 10, 60),
    }
    rng = np.random.default_rng(9)
    folder = root / "genomics"
    folder.mkdir(parents=True, exist_ok=True)
    for name, (n, offset, classes) in rows.items():
        lines = [",domain,label,seq,seq_info"]
        for i in range(n):
            seq = "".join(rng.choice(list("ACGT"), size=250))
            lines.append(f"{i},b'in',{offset + i % classes},b'{seq}',b'NC_0{i}:start=1;end=250'")
        (folder / name).write_text("\n".join(lines) + "\n")
    return folder
