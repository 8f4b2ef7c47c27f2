"""PAMAP2 from `PAMAP2_Dataset/Protocol/subject10N.dat` (space-separated, 54 columns, NaN gaps).

As in DABS: each file is linearly interpolated, the 12 protocol activities are kept, and an
item is 320 consecutive measurements of the 52 channels after timestamp and activity id
(heart rate + 3 IMUs x 17), unnormalized; segment size 5 gives 64 tokens. Train subjects
1-4 and 7-9, test subject 5 (DABS's "val").

Differences, on purpose: DABS draws random windows every epoch (uniform over activity,
then position); we use fixed windows every WINDOW_STRIDE steps inside each contiguous run of
one activity, so splits and probe features are reproducible (and a window never straddles
two runs). NaNs left at a file's start after interpolation are back-filled (DABS kept
them). Validation is the last 10% (at least one window) of every training run of at
least two windows, with windows crossing that boundary dropped, so overlapping windows
never leak between train and validation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dabs_lib.datasets.cache import ensure_processed, source_signature
from dabs_lib.datasets.catalog import PAMAP2 as SOURCE, TEST_SUBJECTS, TRAIN_SUBJECTS, subject_file
from dabs_lib.datasets.common import shrink
from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.datasets.memmap import Field, MemmapSplit
from dabs_lib.domains.base import Domain, TransferTask
from dabs_lib.specs import Sequence1dSpec
from dabs_lib.datasets.cache import ArrayWriter
from pathlib import Path
from collections.abc import Callable

# The 12 protocol activities; label = position here. DABS's list left out ironing (17)
# although its head had 12 outputs; we keep all 12.
ACTIVITY_IDS = (1, 2, 3, 4, 5, 6, 7, 12, 13, 16, 17, 24)
SEQ_LEN = 320
SEGMENT = 5
CHANNELS = 52
NUM_COLUMNS = 54  # timestamp, activity id, heart rate, 3 IMUs x 17
WINDOW_STRIDE = 32
VAL_TAIL = 0.1  # last share of each training run (at least one window) that becomes validation


def _last_line_fields(path: Path) -> int:
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        handle.seek(max(0, handle.tell() - 4096))
        lines = handle.read().rstrip(b"\n").split(b"\n")
    return len(lines[-1].split()) if lines and lines[-1] else 0


def read_subject(path: Path) -> pd.DataFrame:
    """One subject file -> interpolated frame with columns 0..53."""
    if _last_line_fields(path) not in (0, NUM_COLUMNS):
        raise DatasetFileError(path, f"its last line must have {NUM_COLUMNS} values (truncated file?)")
    try:
        frame = pd.read_csv(path, sep=" ", header=None, dtype=np.float64, na_values=["NaN"])
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise DatasetFileError(path, f"is not a PAMAP2 protocol file ({error})") from error
    if frame.shape[1] != NUM_COLUMNS:
        raise DatasetFileError(path, f"rows must have {NUM_COLUMNS} space-separated values, but got {frame.shape[1]}")
    if frame.iloc[:, 1].isna().any():
        raise DatasetFileError(path, "activity id column has missing values (truncated file?)")
    return frame.interpolate().bfill().fillna(0.0)


def _runs(activity: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, end, label) of each maximal run of one kept activity."""
    edges = np.flatnonzero(np.diff(activity)) + 1
    bounds = np.concatenate([[0], edges, [len(activity)]])
    return [
        (int(a), int(b), ACTIVITY_IDS.index(int(activity[a])))
        for a, b in zip(bounds[:-1], bounds[1:])
        if int(activity[a]) in ACTIVITY_IDS
    ]


def _val_cut(start: int, end: int) -> int:
    """Where validation starts in a run: its last 10%, at least SEQ_LEN long; none if too short."""
    length = end - start
    if length < 2 * SEQ_LEN:
        return end
    return end - max(int(np.ceil(VAL_TAIL * length)), SEQ_LEN)


def _windows(offset: int, start: int, end: int) -> np.ndarray:
    return offset + np.arange(start, end - SEQ_LEN + 1, WINDOW_STRIDE)


def _preprocess(folder: Path) -> Callable[[ArrayWriter], None]:
    def build(writer: ArrayWriter) -> None:
        series, tables, offset = [], [], 0
        for subject in TRAIN_SUBJECTS + TEST_SUBJECTS:
            values = read_subject(folder / subject_file(subject)).to_numpy()
            series.append(values[:, 2:].astype(np.float32))  # (T, 52)
            for start, end, label in _runs(values[:, 1].astype(np.int64)):
                cut = _val_cut(start, end)
                for part, (a, b) in ((0, (start, cut)), (1, (cut, end)), (2, (start, end))):
                    starts = _windows(offset, a, b)
                    tables.append(
                        np.stack(
                            [
                                starts,
                                np.full_like(starts, label),
                                np.full_like(starts, subject),
                                np.full_like(starts, part),
                            ],
                            axis=1,
                        )
                    )
            offset += len(values)
        writer.save("series", np.concatenate(series))
        writer.save("windows", np.concatenate(tables) if tables else np.zeros((0, 4), np.int64))

    return build


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """PAMAP2: 320 x 52 windows, segment 5; 12 activities; test subject 5."""
    del seed  # the split is by subject and time, not random
    folder = SOURCE.check(data_root)
    params = {"version": 1, "stride": WINDOW_STRIDE, "source": source_signature([folder / r for r in SOURCE.required])}
    processed = ensure_processed(folder.parent, SOURCE.name, "windows", params, _preprocess(folder))
    table = processed.load("windows", mmap=False)  # (W, 4): start, label, subject, part (0 train, 1 val, 2 whole)
    fields = (Field(str(processed.path("series")), window=SEQ_LEN),)

    def split(name: str, keep: np.ndarray) -> MemmapSplit:
        rows = table[keep]
        return shrink(MemmapSplit(f"pamap2/{name}", fields, rows[:, 0], rows[:, 1], processed.fingerprint), smoke)

    in_train = np.isin(table[:, 2], TRAIN_SUBJECTS)
    pretrain = split("pretrain", in_train & (table[:, 3] == 2))
    task = TransferTask(
        name="pamap2",
        kind="multiclass",
        metric="accuracy",
        num_classes=len(ACTIVITY_IDS),
        train=split("train", in_train & (table[:, 3] == 0)),
        val=split("val", in_train & (table[:, 3] == 1)),
        test=split("test", np.isin(table[:, 2], TEST_SUBJECTS) & (table[:, 3] == 2)),
    )
    return Domain(
        name="pamap2",
        specs=(Sequence1dSpec(seq_len=SEQ_LEN, segment_size=SEGMENT, in_channels=CHANNELS),),
        pretrain=pretrain,
        tasks={"pamap2": task},
        pretrain_num_classes=len(ACTIVITY_IDS),
        supervised_task="pamap2",
        batch_size=256,
    )
