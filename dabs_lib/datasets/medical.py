"""Medical images: CheXpert pretraining; CheXpert (5 labels) and ChestX-ray8 (8 labels) transfer.

Inputs are 3x224x224 in [0, 1] (grayscale X-rays resized to 224x224 and repeated to three
channels, as DABS's convert("RGB") + Resize((224, 224)) + ToTensor), patch 16. Both tasks
are multi-label, scored by macro AUROC.

CheXpert (manual download): `CheXpert-v1.0-small/{train,valid}.csv` and the images they
list (the full-resolution `CheXpert-v1.0/` is used when the small one is absent). As in
DABS the 5 competition labels are kept, uncertain (-1) and blank count as negative; train
is pretraining and transfer train (validation carved by patient), valid.csv is test.
ChestX-ray8 (NIH ChestX-ray14, optional): `images/*.png` and `Data_Entry_2017_v2020.csv`;
DABS shuffles the file names with RandomState(42) and keeps 90% for train (we sort the
names first, since DABS used os.listdir's arbitrary order); validation is carved by patient.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from dabs_lib.datasets.cache import ensure_processed
from dabs_lib.datasets.catalog import CHEXPERT, XRAY8
from dabs_lib.datasets.common import make_task, optional_task, resolve_root, shrink
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.images import store_images
from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.datasets.splits import DABS_SEED
from dabs_lib.datasets.transforms import Image
from dabs_lib.domains.base import Domain, TransferTask
from dabs_lib.specs import Image2dSpec
from dabs_lib.datasets.cache import ArrayWriter
from pathlib import Path

SIZE = 224
SMOKE_IMAGES = 24  # smoke builds decode this many images per CSV / split
CHEXPERT_LABELS = ("Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Pleural Effusion")
XRAY8_LABELS = (
    "Atelectasis",
    "Cardiomegaly",
    "Effusion",
    "Infiltration",
    "Mass",
    "Nodule",
    "Pneumonia",
    "Pneumothorax",
)


def _chexpert_rows(csv_path: Path, limit: int | None) -> tuple[list[Path], np.ndarray, np.ndarray]:
    """(image paths, labels (N, 5) float32, patient ids) of one CheXpert CSV."""
    try:
        frame = pd.read_csv(csv_path, nrows=limit)
        values = frame[list(CHEXPERT_LABELS)].fillna(0).to_numpy(np.float32)
        paths = [csv_path.parent.parent / p for p in frame["Path"]]
    except (KeyError, ValueError, pd.errors.ParserError) as error:
        raise DatasetFileError(
            csv_path, f"must have a Path column and the columns {list(CHEXPERT_LABELS)} ({error})"
        ) from error
    patients = np.array([str(p).split("/patient")[-1].split("/")[0] for p in frame["Path"]])
    return paths, (values == 1).astype(np.float32), patients


def _chexpert(root: str | Path, seed: int, smoke: bool) -> tuple[MemmapSplit, TransferTask]:
    folder = CHEXPERT.check(root)
    limit = SMOKE_IMAGES if smoke else None
    splits = {}
    for part, rel in zip(("train", "test"), CHEXPERT.required):
        csv = CHEXPERT.find(root, rel)
        paths, labels, patients = _chexpert_rows(csv, limit)

        def build(writer: ArrayWriter, paths: list[Path] = paths, labels: np.ndarray = labels) -> None:
            store_images(writer, "images", paths, SIZE, mode="L")
            writer.save("labels", labels)

        params = {
            "version": 1,
            "size": SIZE,
            "csv": str(csv.relative_to(folder)),
            "limit": limit,
            "csv_bytes": csv.stat().st_size,
        }
        processed = ensure_processed(root, CHEXPERT.name, part, params, build)
        field = Field(str(processed.path("images")), transform=Image(SIZE))
        split = MemmapSplit(f"chexpert/{part}", (field,), np.arange(len(labels)), labels, processed.fingerprint)
        splits[part] = (split, patients)
    (train, patients), (test, _) = splits["train"], splits["test"]
    task = make_task("chexpert", "multilabel", "auroc", len(CHEXPERT_LABELS), train, test, seed, groups=patients)
    return train, task


def _xray8(root: str | Path, seed: int, smoke: bool) -> dict[str, TransferTask]:
    folder = XRAY8.check(root)
    csv = XRAY8.find(root, XRAY8.required[1])
    try:
        meta = pd.read_csv(csv, usecols=["Image Index", "Finding Labels", "Patient ID"]).set_index("Image Index")
    except (ValueError, pd.errors.ParserError) as error:
        raise DatasetFileError(csv, f"must have columns Image Index, Finding Labels, Patient ID ({error})") from error
    names = np.array(sorted(p.name for p in (folder / "images").glob("*.png")))
    np.random.RandomState(DABS_SEED).shuffle(names)
    cut = int(0.9 * len(names))
    if smoke:
        names = np.concatenate([names[:cut][:SMOKE_IMAGES], names[cut:][:SMOKE_IMAGES]])
        cut = min(cut, SMOKE_IMAGES)
    missing = [n for n in names if n not in meta.index]
    if missing:
        raise DatasetFileError(csv, f"has no row for image {missing[0]} (and {len(missing) - 1} more)")
    findings = meta.loc[names, "Finding Labels"].astype(str)
    labels = np.array([[label in text for label in XRAY8_LABELS] for text in findings], dtype=np.float32)

    def build(writer: ArrayWriter) -> None:
        store_images(writer, "images", [folder / "images" / n for n in names], SIZE, mode="L")

    params = {
        "version": 1,
        "size": SIZE,
        "count": len(names),
        "names": hashlib.sha256("\n".join(names).encode()).hexdigest()[:16],
    }
    processed = ensure_processed(root, XRAY8.name, "images", params, build)
    field = Field(str(processed.path("images")), transform=Image(SIZE))
    rows = np.arange(len(names))
    train = MemmapSplit("chestx_ray8/train", (field,), rows[:cut], labels[:cut], processed.fingerprint)
    test = MemmapSplit("chestx_ray8/test", (field,), rows[cut:], labels[cut:], processed.fingerprint)
    patients = meta.loc[names[:cut], "Patient ID"].to_numpy()
    return {
        "chestx_ray8": make_task(
            "chestx_ray8", "multilabel", "auroc", len(XRAY8_LABELS), train, test, seed, groups=patients
        )
    }


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """CheXpert -> CheXpert (5 labels), ChestX-ray8 (8 labels); macro AUROC."""
    root = resolve_root(data_root)
    pretrain, chexpert = _chexpert(root, seed, smoke)
    tasks = {"chexpert": chexpert}
    tasks.update(optional_task(_xray8, XRAY8, root, root, seed, smoke) or {})
    return Domain(
        name="chexpert",
        specs=(Image2dSpec(input_size=SIZE, patch_size=16, in_channels=3),),
        pretrain=shrink(pretrain, smoke),
        tasks=tasks,
        pretrain_num_classes=len(CHEXPERT_LABELS),
        pretrain_metric="auroc",
        pretrain_kind="multilabel",
        supervised_task="chexpert",
        batch_size=64,
    )
