"""Writers of miniature DABS 2.0 / captioned / multilingual datasets in their real layout and format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

AMINO = "ARNDCQEGHILKMFPSTWYVX"


def _protein(rng, low: int = 20, high: int = 200) -> str:
    return "".join(rng.choice(list(AMINO), size=int(rng.integers(low, high))))


def _write_json(path: Path, records: list[dict], indent=None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, indent=indent))


def write_proteins(root: Path, pfam_train: int = 60, pfam_valid: int = 50, task_rows: int = 30) -> Path:
    """<task>/<task>/<task>_{train,valid}.json as TAPE's JSON release (arrays of records).

    Pfam clans are 3, 7, 11, 20 (so labels are renumbered 0..3); pfam_valid's record 0 has
    clan 99, absent from pfam_train. Stability/fluorescence labels are one-element lists.
    """
    rng = np.random.default_rng(11)
    clans = (3, 7, 11, 20)

    def pfam(n: int, first_clan=None):
        return [
            {
                "primary": _protein(rng),
                "protein_length": 0,
                "clan": int(first_clan if i == 0 and first_clan else clans[i % 4]),
                "family": i % 9,
                "id": f"P{i}",
            }
            for i in range(n)
        ]

    _write_json(root / "pfam" / "pfam" / "pfam_train.json", pfam(pfam_train))
    _write_json(root / "pfam" / "pfam" / "pfam_valid.json", pfam(pfam_valid, first_clan=99), indent=1)
    for split, n in (("train", task_rows), ("valid", task_rows // 3)):
        seqs = [_protein(rng, 60, 180) for _ in range(n)]
        _write_json(
            root / "remote_homology" / "remote_homology" / f"remote_homology_{split}.json",
            [{"primary": s, "fold_label": [0, 5, 1194][i % 3], "id": str(i)} for i, s in enumerate(seqs)],
        )
        _write_json(
            root / "secondary_structure" / "secondary_structure" / f"secondary_structure_{split}.json",
            [
                {"primary": s, "ss3": [int(v) for v in rng.integers(0, 3, len(s))], "id": str(i)}
                for i, s in enumerate(seqs)
            ],
        )
        _write_json(
            root / "stability" / "stability" / f"stability_{split}.json",
            [{"primary": s, "stability_score": [round(float(i) / 7, 4)], "id": str(i)} for i, s in enumerate(seqs)],
        )
        _write_json(
            root / "fluorescence" / "fluorescence" / f"fluorescence_{split}.json",
            [{"primary": s, "log_fluorescence": [3.0 + i / 10], "num_mutations": 1} for i, s in enumerate(seqs)],
        )
    return root


_WORDS = [
    "a",
    "man",
    "dog",
    "cat",
    "red",
    "blue",
    "sitting",
    "on",
    "the",
    "table",
    "with",
    "bench",
    "next",
    "to",
    "grass",
    "street",
]


def _jpeg(path: Path, rng, size=(64, 48)) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, quality=90)


def write_mscoco(root: Path, train: int = 12, val: int = 6) -> Path:
    """mscoco/{train2017,val2017}/<id:012d>.jpg and annotations/captions_{train,val}2017.json (2 captions per image)."""
    rng = np.random.default_rng(12)
    base = root / "mscoco"
    for part, n, first in (("train2017", train, 1000), ("val2017", val, 5000)):
        images, notes = [], []
        for k in range(n):
            image_id = first + 7 * k
            name = f"{image_id:012d}.jpg"
            _jpeg(base / part / name, rng, size=(40 + k, 30 + 2 * k))
            images.append({"id": image_id, "file_name": name, "height": 30 + 2 * k, "width": 40 + k})
            for j in range(2):
                notes.append(
                    {
                        "image_id": image_id,
                        "id": 10 * image_id + j,
                        "caption": f"image {k} caption {j} " + " ".join(rng.choice(_WORDS, 5)),
                    }
                )
        order = rng.permutation(len(notes)) if part == "val2017" else np.arange(len(notes))
        _write_json(
            base / "annotations" / f"captions_{part}.json",
            {"info": {}, "images": images, "annotations": [notes[i] for i in order]},
        )
    return base


def write_vqa(root: Path, images: int = 5, per_image: int = 3) -> Path:
    """vqa/MultipleChoice_mscoco_{train,val}2014_questions.json, mscoco_*2014_annotations.json,
    {train,val}2014/*.jpg."""
    rng = np.random.default_rng(13)
    base = root / "vqa"
    for split in ("train", "val"):
        questions, notes = [], []
        for k in range(images):
            image_id = 100 + k
            _jpeg(base / f"{split}2014" / f"COCO_{split}2014_{image_id:012d}.jpg", rng)
            for j in range(per_image):
                qid = image_id * 10 + j
                choices = ["yes", "no", "red", "two", "dog"]
                answer = choices[(k + j) % 5] if j < 2 else "not a choice"
                questions.append(
                    {
                        "image_id": image_id,
                        "question": f"what is {k} {j}?",
                        "multiple_choices": choices,
                        "question_id": qid,
                    }
                )
                notes.append(
                    {
                        "question_id": qid,
                        "image_id": image_id,
                        "multiple_choice_answer": answer,
                        "answers": [{"answer": answer, "answer_id": 1}],
                        "question_type": "what",
                    }
                )
        _write_json(
            base / f"MultipleChoice_mscoco_{split}2014_questions.json",
            {"task_type": "Multiple-Choice", "data_subtype": f"{split}2014", "questions": questions},
        )
        _write_json(
            base / f"mscoco_{split}2014_annotations.json", {"data_subtype": f"{split}2014", "annotations": notes}
        )
    return base


EUROSAT_CLASSES = (
    "AnnualCrop",
    "Forest",
    "HerbaceousVegetation",
    "Highway",
    "Industrial",
    "Pasture",
    "PermanentCrop",
    "Residential",
    "River",
    "SeaLake",
)


def write_eurosat(root: Path, per_class: int = 10) -> Path:
    """eurosat/EuroSAT_MS/<Class>/<Class>_<n>.tif: 13-band uint16 64x64 GeoTIFF-like TIFFs (band last).

    Band b of file <Class>_<n> holds the value 1000 * b + 10 * class + n everywhere, so tests
    can tell which file an item came from.
    """
    import tifffile

    base = root / "eurosat" / "EuroSAT_MS"
    for label, name in enumerate(EUROSAT_CLASSES):
        (base / name).mkdir(parents=True, exist_ok=True)
        for n in range(1, per_class + 1):
            bands = (1000 * np.arange(13) + 10 * label + n).astype(np.uint16)
            tifffile.imwrite(
                base / name / f"{name}_{n}.tif",
                np.broadcast_to(bands, (64, 64, 13)).copy(),
                photometric="minisblack",
                planarconfig="contig",
            )
    return base


WAFER_TYPES = ("none", "random", "donut", "scratch", "center", "loc", "edge-loc", "edge-ring", "near-full")


def wafer_rows(n: int = 80, seed: int = 14) -> tuple[list[np.ndarray], list[str]]:
    """Maps of varying shape with values {0, 1, 2}; every other map unlabelled (""), the rest cycle the 9 types."""
    rng = np.random.default_rng(seed)
    maps = [
        rng.integers(0, 3, size=(int(rng.integers(20, 45)), int(rng.integers(20, 45)))).astype(np.uint8)
        for _ in range(n)
    ]
    types = ["" if i % 2 else WAFER_TYPES[(i // 2) % 9] for i in range(n)]
    return maps, types


def write_wm811k(root: Path, n: int = 80, pickle_too: bool = False) -> Path:
    """wm811k/wm811k.npz as the documented conversion writes it (and LSWMD.pkl as a pandas pickle)."""
    import pandas as pd

    maps, types = wafer_rows(n)
    folder = root / "wm811k"
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(
        folder / "wm811k.npz",
        maps=np.concatenate([m.ravel() for m in maps]),
        shapes=np.array([m.shape for m in maps]),
        failureType=np.array(types),
    )
    if pickle_too:
        frame = pd.DataFrame(
            {
                "waferMap": maps,
                "dieSize": [m.size for m in maps],
                "failureType": [np.array([[t]]) if t else np.zeros((0, 0)) for t in types],
            }
        )
        frame.to_pickle(folder / "LSWMD.pkl")
    return folder


LANGUAGES = ("en", "fr", "de", "zh", "es", "ja", "ko")
_LANG_WORDS = {
    "en": "the cat sat on a mat",
    "fr": "le chat est sur le tapis",
    "de": "die katze sitzt auf der matte",
    "zh": "猫 坐 在 垫子 上",
    "es": "el gato en la alfombra",
    "ja": "猫 が マット に 座る",
    "ko": "고양이 가 매트 에 앉다",
}


def write_mc4(root: Path, lines: int = 20) -> Path:
    """mc4/<lang>.txt (one example per line); zh as mc4/zh/c4-zh.tfrecord-0000N-of-01024.json.gz (JSON lines)."""
    import gzip

    rng = np.random.default_rng(15)
    base = root / "mc4"
    base.mkdir(parents=True, exist_ok=True)
    for lang in LANGUAGES:
        words = _LANG_WORDS[lang].split()
        texts = [" ".join(rng.choice(words, size=8)) + f" {i}" for i in range(lines)]
        if lang == "zh":
            (base / "zh").mkdir(exist_ok=True)
            for shard in range(2):
                with gzip.open(
                    base / "zh" / f"c4-zh.tfrecord-{shard:05d}-of-01024.json.gz", "wt", encoding="utf-8"
                ) as f:
                    for text in texts[shard::2]:
                        f.write(
                            json.dumps({"text": text, "timestamp": "2020", "url": "http://x"}, ensure_ascii=False)
                            + "\n"
                        )
        else:
            (base / f"{lang}.txt").write_text("\n\n".join(texts) + "\n", encoding="utf-8")
    return base


def write_pawsx(root: Path, train: int = 20, dev: int = 8) -> Path:
    """pawsx/x-final/<lang>/{train.tsv (en) | translated_train.tsv, dev_2k.tsv}: id, sentence1, sentence2, label."""
    rng = np.random.default_rng(16)
    for lang in LANGUAGES:
        folder = root / "pawsx" / "x-final" / lang
        folder.mkdir(parents=True, exist_ok=True)
        words = _LANG_WORDS[lang].split()
        for name, n in (("train.tsv" if lang == "en" else "translated_train.tsv", train), ("dev_2k.tsv", dev)):
            rows = ["id\tsentence1\tsentence2\tlabel"]
            rows += [
                f"{i + 1}\t{' '.join(rng.choice(words, 6))}\t{' '.join(rng.choice(words, 6))}\t{i % 2}"
                for i in range(n)
            ]
            if name != "dev_2k.tsv":
                rows.append(f"{n + 1}\t\tempty first sentence\t1")  # dropped, as in the translated files
            (folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root / "pawsx"
