"""Where each text, protein and image+caption dataset lives and how to get it (torch-free).

GLUE's task table lives here because its files are what a check needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from dabs_lib.datasets.source import Archive, Source
from typing import Any

# --- wikitext ---
WIKITEXT = Source(
    name="wikitext103",
    required=("wikitext-103/wiki.train.tokens",),
    how_to_get=(
        "Download https://wikitext.smerity.com/wikitext-103-v1.zip and unzip it in {dir}, "
        "so that {dir}/wikitext-103/wiki.train.tokens exists."
    ),
    archives=(Archive("https://wikitext.smerity.com/wikitext-103-v1.zip"),),
)
BERT_TOKENIZER = Source(
    name="bert-base-uncased",
    required=("tokenizer.json",),
    how_to_get=(
        "Optional: download https://huggingface.co/bert-base-uncased/resolve/main/tokenizer.json into {dir} "
        "to tokenize exactly as DABS did; without it a WordPiece tokenizer is trained on WikiText-103."
    ),
    archives=(Archive("https://huggingface.co/bert-base-uncased/resolve/main/tokenizer.json", extract=False),),
)


# --- glue ---
@dataclass(frozen=True)
class GlueTask:
    folder: str  # GLUE's directory for the task
    texts: tuple[str, ...]  # text columns (a pair for sentence-pair tasks); CoLA has no header: indices
    label: str  # label column
    kind: str  # TASK_KINDS entry
    metric: str  # METRIC_DIRECTIONS entry
    num_classes: int
    names: tuple[str, ...] = ()  # label strings in class order; empty: the column is numeric
    test_file: str = "dev.tsv"  # GLUE's dev set = DABS's "val" = our test
    header: bool = True

    def parse_key(self) -> dict[str, Any]:
        """The fields `parse` reads a file with: a cached file depends on these alone, so MNLI's
        train.tsv (shared by the matched and mismatched tasks) is tokenized once."""
        return {"texts": self.texts, "label": self.label, "kind": self.kind, "names": self.names, "header": self.header}


_NLI = ("entailment", "neutral", "contradiction")  # Hugging Face's MNLI label order
_QNLI = ("entailment", "not_entailment")
GLUE_TASKS = {  # SST-2 first: the default task a search optimizes (large, stable accuracy)
    "sst2": GlueTask("SST-2", ("sentence",), "label", "binary", "accuracy", 1),
    "cola": GlueTask("CoLA", ("3",), "1", "binary", "mcc", 1, header=False),
    "mrpc": GlueTask("MRPC", ("#1 String", "#2 String"), "Quality", "binary", "accuracy", 1),
    "qqp": GlueTask("QQP", ("question1", "question2"), "is_duplicate", "binary", "accuracy", 1),
    "stsb": GlueTask("STS-B", ("sentence1", "sentence2"), "score", "regression", "spearman", 1),
    "mnli_matched": GlueTask(
        "MNLI",
        ("sentence1", "sentence2"),
        "gold_label",
        "multiclass",
        "accuracy",
        3,
        names=_NLI,
        test_file="dev_matched.tsv",
    ),
    "mnli_mismatched": GlueTask(
        "MNLI",
        ("sentence1", "sentence2"),
        "gold_label",
        "multiclass",
        "accuracy",
        3,
        names=_NLI,
        test_file="dev_mismatched.tsv",
    ),
    "qnli": GlueTask("QNLI", ("question", "sentence"), "label", "binary", "accuracy", 1, names=_QNLI),
    "rte": GlueTask("RTE", ("sentence1", "sentence2"), "label", "binary", "accuracy", 1, names=_QNLI),
    "wnli": GlueTask("WNLI", ("sentence1", "sentence2"), "label", "binary", "accuracy", 1),
}
GLUE = Source(
    name="glue",
    required=tuple(sorted({f"{t.folder}/{f}" for t in GLUE_TASKS.values() for f in ("train.tsv", t.test_file)})),
    how_to_get=(
        "Download the GLUE data with the GLUE baseline's download_glue_data.py "
        "(https://github.com/nyu-mll/GLUE-baselines: `python download_glue_data.py --data_dir {dir} --tasks all`), "
        "so that {dir}/CoLA/train.tsv, {dir}/MNLI/dev_matched.tsv, ... exist."
    ),
)


# --- pawsx ---
LANGUAGES = ("en", "fr", "de", "zh", "es", "ja", "ko")
MC4 = Source(
    name="mc4",
    required=tuple(f"{lang}.txt|{lang}/" for lang in LANGUAGES),
    how_to_get=(
        "Put a local mC4 sample in {dir}: for each of en fr de zh es ja ko either {dir}/<lang>.txt (one example "
        "per line) or a folder {dir}/<lang>/ of mC4 *.json.gz shards (e.g. from the Hugging Face dataset "
        "allenai/c4, folder multilingual/, files c4-<lang>.tfrecord-*.json.gz)."
    ),
)
PAWSX = Source(
    name="pawsx",
    required=tuple(f"x-final/{lang}/{'train' if lang == 'en' else 'translated_train'}.tsv" for lang in LANGUAGES)
    + tuple(f"x-final/{lang}/dev_2k.tsv" for lang in LANGUAGES),
    how_to_get=(
        "Download https://storage.googleapis.com/paws/pawsx/x-final.tar.gz and extract it in {dir}, "
        "so that {dir}/x-final/de/translated_train.tsv exists."
    ),
    archives=(Archive("https://storage.googleapis.com/paws/pawsx/x-final.tar.gz"),),
)
XLMR_TOKENIZER = Source(
    name="xlm-roberta-base",
    required=("tokenizer.json",),
    how_to_get=(
        "Optional: download https://huggingface.co/xlm-roberta-base/resolve/main/tokenizer.json into {dir} "
        "to tokenize exactly as DABS did; without it a WordPiece tokenizer is trained on the mC4 sample."
    ),
    archives=(Archive("https://huggingface.co/xlm-roberta-base/resolve/main/tokenizer.json", extract=False),),
)


# --- mscoco ---
_COCO = "http://images.cocodataset.org/"
_VQA = "https://s3.amazonaws.com/cvmlp/vqa/mscoco/vqa/"
MSCOCO = Source(
    name="mscoco",
    required=("annotations/captions_train2017.json", "annotations/captions_val2017.json", "train2017/", "val2017/"),
    how_to_get=(
        f"Download {_COCO}zips/train2017.zip, {_COCO}zips/val2017.zip and "
        f"{_COCO}annotations/annotations_trainval2017.zip and unzip them in {{dir}}, so that "
        "{dir}/train2017/ and {dir}/annotations/captions_train2017.json exist."
    ),
    archives=tuple(
        Archive(_COCO + f)
        for f in ("annotations/annotations_trainval2017.zip", "zips/val2017.zip", "zips/train2017.zip")
    ),
)
VQA = Source(
    name="vqa",
    required=tuple(
        f"{f}_{s}2014{e}"
        for s in ("train", "val")
        for f, e in (("MultipleChoice_mscoco", "_questions.json"), ("mscoco", "_annotations.json"))
    )
    + ("train2014/", "val2014/"),
    how_to_get=(
        f"Optional: download VQA v1 {_VQA}Questions_Train_mscoco.zip, Questions_Val_mscoco.zip, "
        "Annotations_Train_mscoco.zip, Annotations_Val_mscoco.zip (same folder) and "
        f"{_COCO}zips/train2014.zip, {_COCO}zips/val2014.zip, and unzip them all in {{dir}}, so that "
        "{dir}/mscoco_train2014_annotations.json and {dir}/train2014/ exist."
    ),
    archives=tuple(
        Archive(_VQA + f)
        for f in (
            "Questions_Train_mscoco.zip",
            "Questions_Val_mscoco.zip",
            "Annotations_Train_mscoco.zip",
            "Annotations_Val_mscoco.zip",
        )
    )
    + tuple(Archive(f"{_COCO}zips/{s}2014.zip") for s in ("train", "val")),
)


# --- proteins ---
_TAPE = "http://s3.amazonaws.com/songlabdata/proteindata/data_raw_pytorch/"


def _tape(name: str, required: bool = False) -> Source:
    role = "" if required else "Optional (its transfer task is skipped without it): "
    return Source(
        name=name,
        required=(f"{name}/{name}_train.json", f"{name}/{name}_valid.json"),
        how_to_get=(
            f"{role}download {_TAPE}{name}.tar.gz (TAPE's JSON release) and extract it in {{dir}}, "
            f"so that {{dir}}/{name}/{name}_train.json exists."
        ),
        archives=(Archive(f"{_TAPE}{name}.tar.gz"),),
    )


PFAM = _tape("pfam", required=True)
REMOTE_HOMOLOGY, SECONDARY_STRUCTURE, STABILITY, FLUORESCENCE = (
    _tape(n) for n in ("remote_homology", "secondary_structure", "stability", "fluorescence")
)
TAPE_TRANSFER = (REMOTE_HOMOLOGY, SECONDARY_STRUCTURE, STABILITY, FLUORESCENCE)  # optional transfer sets
