"""Writers of miniature audio and image datasets in their real on-disk layout and format."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _tone(rng, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * rng.uniform(200, 800) * t) + 0.01 * rng.normal(size=t.size)).astype(np.float32)


def write_librispeech(root: Path, dev_speakers=(84, 174), dev_utts: int = 5) -> Path:
    """librispeech/LibriSpeech/<subset>/<speaker>/<chapter>/<spk>-<chap>-<utt>.flac + <spk>-<chap>.trans.txt."""
    import soundfile

    rng = np.random.default_rng(4)
    base = root / "librispeech" / "LibriSpeech"
    plan = {
        "train-clean-100": {19: 2, 26: 1},
        "train-clean-360": {14: 2},
        "train-other-500": {20: 1},
        "dev-clean": dict.fromkeys(dev_speakers, dev_utts),
    }
    for subset, speakers in plan.items():
        for speaker, count in speakers.items():
            chapter = base / subset / str(speaker) / "1000"
            chapter.mkdir(parents=True, exist_ok=True)
            lines = []
            for utt in range(count):
                uid = f"{speaker}-1000-{utt:04d}"
                soundfile.write(chapter / f"{uid}.flac", _tone(rng, 0.25, 16000), 16000, format="FLAC")
                lines.append(f"{uid} HELLO WORLD NUMBER {utt}")
            (chapter / f"{speaker}-1000.trans.txt").write_text("\n".join(lines) + "\n")
    return base


def write_audio_mnist(root: Path, speakers=(1, 12, 26), per_speaker: int = 3) -> Path:
    """audio_mnist/AudioMNIST/data/<NN>/<digit>_<NN>_<n>.wav at 48 kHz (speakers 1/12/26: train/val/test)."""
    import soundfile

    rng = np.random.default_rng(5)
    for speaker in speakers:
        folder = root / "audio_mnist" / "AudioMNIST" / "data" / f"{speaker:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_speaker):
            soundfile.write(folder / f"{i % 10}_{speaker:02d}_{i}.wav", _tone(rng, 0.1, 48000), 48000, subtype="PCM_16")
    return root / "audio_mnist"


def write_speech_commands(root: Path, words=("yes", "no", "up"), per_word: int = 3) -> Path:
    """speech_commands/<word>/<hash>_nohash_<n>.wav, _background_noise_/, validation_list.txt, testing_list.txt."""
    import soundfile

    rng = np.random.default_rng(6)
    base = root / "speech_commands"
    val, test = [], []
    for word in (*words, "_background_noise_"):
        (base / word).mkdir(parents=True, exist_ok=True)
        for i in range(per_word if word != "_background_noise_" else 1):
            name = f"{i:08x}_nohash_{i}.wav" if word != "_background_noise_" else "white_noise.wav"
            soundfile.write(base / word / name, _tone(rng, 0.1, 16000), 16000, subtype="PCM_16")
            if word != "_background_noise_" and i == 1:
                val.append(f"{word}/{name}")
            if word != "_background_noise_" and i == 2:
                test.append(f"{word}/{name}")
    (base / "validation_list.txt").write_text("\n".join(val) + "\n")
    (base / "testing_list.txt").write_text("\n".join(test) + "\n")
    return base


def write_fluent_speech(root: Path) -> Path:
    """fluent_speech/fluent_speech_commands_dataset/{data/*_data.csv, wavs/speakers/<id>/<n>.wav}."""
    import soundfile

    rng = np.random.default_rng(7)
    base = root / "fluent_speech" / "fluent_speech_commands_dataset"
    rows = [
        ("activate", "lights", "kitchen"),
        ("decrease", "volume", "none"),
        ("bring", "shoes", "none"),
        ("change language", "Korean", "none"),
        ("increase", "heat", "washroom"),
        ("deactivate", "lamp", "bedroom"),
    ]
    for split, count in (("train", 6), ("valid", 3), ("test", 3)):
        lines = [",path,speakerId,transcription,action,object,location"]
        for i in range(count):
            rel = f"wavs/speakers/spk{split}/{i}.wav"
            (base / rel).parent.mkdir(parents=True, exist_ok=True)
            soundfile.write(base / rel, _tone(rng, 0.1, 16000), 16000, subtype="PCM_16")
            action, obj, loc = rows[i]
            lines.append(f'{i},{rel},spk{split},"Turn, on {obj}",{action},{obj},{loc}')
        (base / "data").mkdir(parents=True, exist_ok=True)
        (base / "data" / f"{split}_data.csv").write_text("\n".join(lines) + "\n")
    return base


VOXCELEB1_PLAN = (
    ("id10003", "Xy1", 1),
    ("id10003", "Xy1", 1),
    ("id10003", "Zz9", 2),
    ("id10003", "Ab2", 3),
    ("id10001", "1zc", 1),
    ("id10001", "1zc", 1),
    ("id10001", "Q8r", 2),
    ("id10001", "Q8r", 3),
    ("id10002", "k7E", 1),
    ("id10002", "k7E", 1),
    ("id10002", "k7E", 2),
    ("id10002", "m3P", 3),
)


def write_voxceleb1(root: Path, plan=VOXCELEB1_PLAN) -> Path:
    """voxceleb1/{iden_split.txt, wav/<speaker>/<video>/<NNNNN>.wav} (16 kHz PCM); speakers unsorted in the file."""
    import soundfile

    rng = np.random.default_rng(16)
    base = root / "voxceleb1"
    lines, counts = [], {}
    for speaker, video, part in plan:
        counts[speaker, video] = counts.get((speaker, video), 0) + 1
        rel = f"{speaker}/{video}/{counts[speaker, video]:05d}.wav"
        (base / "wav" / rel).parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(base / "wav" / rel, _tone(rng, 0.1, 16000), 16000, subtype="PCM_16")
        lines.append(f"{part} {rel}")
    (base / "iden_split.txt").write_text("\n".join(lines) + "\n")
    return base


CHEXPERT_COLUMNS = [
    "Path",
    "Sex",
    "Age",
    "Frontal/Lateral",
    "AP/PA",
    "No Finding",
    "Enlarged Cardiomediastinum",
    "Cardiomegaly",
    "Lung Opacity",
    "Lung Lesion",
    "Edema",
    "Consolidation",
    "Pneumonia",
    "Atelectasis",
    "Pneumothorax",
    "Pleural Effusion",
    "Pleural Other",
    "Fracture",
    "Support Devices",
]


def _gray_image(rng, shape=(40, 32)):
    from PIL import Image

    return Image.fromarray(rng.integers(0, 256, size=shape, dtype=np.uint8), mode="L")


def write_chexpert(root: Path, train_patients: int = 10, valid: int = 4) -> Path:
    """chexpert/CheXpert-v1.0-small/{train,valid}.csv + <split>/patientNNNNN/study1/view1_frontal.jpg."""
    import csv

    rng = np.random.default_rng(10)
    base = root / "chexpert" / "CheXpert-v1.0-small"
    for split, patients, views in (("train", train_patients, 2), ("valid", valid, 1)):
        rows = []
        for p in range(patients):
            for v in range(views):
                patient = p + (0 if split == "train" else 64541)
                rel = f"CheXpert-v1.0-small/{split}/patient{patient:05d}/study1/view{v + 1}_frontal.jpg"
                (root / "chexpert" / rel).parent.mkdir(parents=True, exist_ok=True)
                _gray_image(rng).save(root / "chexpert" / rel, quality=90)
                findings = ["" for _ in CHEXPERT_COLUMNS[5:]]
                findings[CHEXPERT_COLUMNS.index("Edema") - 5] = ["1.0", "-1.0", "0.0", ""][p % 4]
                findings[CHEXPERT_COLUMNS.index("Atelectasis") - 5] = "1.0" if v == 0 else ""
                rows.append([rel, "Female", "68", "Frontal", "AP", *findings])
        with open(base / f"{split}.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(CHEXPERT_COLUMNS)
            writer.writerows(rows)
    return base


def write_chestx_ray8(root: Path, images: int = 20) -> Path:
    """chestx_ray8/images/000NNNNN_000.png + Data_Entry_2017_v2020.csv ("A|B" finding labels)."""
    rng = np.random.default_rng(11)
    base = root / "chestx_ray8"
    (base / "images").mkdir(parents=True, exist_ok=True)
    lines = [
        "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,"
        "OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]"
    ]
    findings = ["No Finding", "Cardiomegaly|Effusion", "Mass", "Hernia|Nodule"]
    for i in range(images):
        name = f"{i // 2:08d}_{i % 2:03d}.png"
        _gray_image(rng, (48, 48)).save(base / "images" / name)
        lines.append(f"{name},{findings[i % 4]},{i % 2},{i // 2},58,M,PA,2682,2749,0.143,0.143")
    (base / "Data_Entry_2017_v2020.csv").write_text("\n".join(lines) + "\n")
    return base


def _rgb(rng, shape=(30, 40)):
    from PIL import Image

    return Image.fromarray(rng.integers(0, 256, size=(*shape, 3), dtype=np.uint8), mode="RGB")


def write_aircraft(root: Path) -> Path:
    """aircraft/fgvc-aircraft-2013b/data/{images_box.txt, images_variant_<split>.txt, images/<id>.jpg}."""
    from PIL import Image

    data = root / "aircraft" / "fgvc-aircraft-2013b" / "data"
    (data / "images").mkdir(parents=True, exist_ok=True)
    variants = ["707-320", "A330-200", "Cessna 172"]
    boxes, splits, n = [], {"train": [], "val": [], "test": []}, 0
    for split, per in (("train", 3), ("val", 1), ("test", 2)):
        for variant in variants:
            for _ in range(per):
                name = f"{1000000 + n:07d}"
                image = np.zeros((40, 60, 3), np.uint8)
                image[10:30, 20:50] = 200  # the aircraft: bright inside its box
                Image.fromarray(image).save(data / "images" / f"{name}.jpg", quality=95)
                boxes.append(f"{name} 20 10 50 30")
                splits[split].append(f"{name} {variant}")
                n += 1
    (data / "images_box.txt").write_text("\n".join(boxes) + "\n")
    for split, lines in (*splits.items(), ("trainval", splits["train"] + splits["val"])):
        (data / f"images_variant_{split}.txt").write_text("\n".join(lines) + "\n")
    return data


def write_cu_birds(root: Path, classes: int = 3, per_class: int = 4) -> Path:
    """cu_birds/CUB_200_2011/{images.txt, image_class_labels.txt, train_test_split.txt, images/...}."""
    rng = np.random.default_rng(12)
    base = root / "cu_birds" / "CUB_200_2011"
    images, labels, split, i = [], [], [], 1
    for c in range(1, classes + 1):
        folder = base / "images" / f"{c:03d}.Bird_{c}"
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(per_class):
            _rgb(rng).save(folder / f"Bird_{c}_{k}.jpg")
            images.append(f"{i} {c:03d}.Bird_{c}/Bird_{c}_{k}.jpg")
            labels.append(f"{i} {c}")
            split.append(f"{i} {1 if k < per_class - 1 else 0}")
            i += 1
    for name, lines in (("images", images), ("image_class_labels", labels), ("train_test_split", split)):
        (base / f"{name}.txt").write_text("\n".join(lines) + "\n")
    return base


def write_dtd(root: Path, categories=("banded", "dotted", "zigzagged")) -> Path:
    """dtd/dtd/{images/<category>/<category>_NNNN.jpg, labels/{train1,val1,test1}.txt}."""
    rng = np.random.default_rng(13)
    base = root / "dtd" / "dtd"
    lists = {"train1": [], "val1": [], "test1": []}
    for category in categories:
        (base / "images" / category).mkdir(parents=True, exist_ok=True)
        for k, split in enumerate(("train1", "train1", "val1", "test1")):
            rel = f"{category}/{category}_{k:04d}.jpg"
            _rgb(rng).save(base / "images" / rel)
            lists[split].append(rel)
    (base / "labels").mkdir(parents=True, exist_ok=True)
    for split, lines in lists.items():
        (base / "labels" / f"{split}.txt").write_text("\n".join(lines) + "\n")
    return base


def write_traffic_sign(root: Path, per_class: int = 5) -> Path:
    """traffic_sign/GTSRB/Final_Training/Images/000NN/000NN_000KK.ppm for the 43 classes."""
    rng = np.random.default_rng(14)
    base = root / "traffic_sign" / "GTSRB" / "Final_Training" / "Images"
    for c in range(43):
        (base / f"{c:05d}").mkdir(parents=True, exist_ok=True)
        for k in range(per_class):
            _rgb(rng, (12, 12)).save(base / f"{c:05d}" / f"00000_{k:05d}.ppm")
    return base


def write_vgg_flower(root: Path, labels=(3, 1, 3, 2, 1, 1, 2, 3, 2, 1)) -> Path:
    """vgg_flower/{imagelabels.mat (1 x N, classes 1..102), jpg/image_NNNNN.jpg}."""
    from scipy.io import savemat

    rng = np.random.default_rng(15)
    base = root / "vgg_flower"
    (base / "jpg").mkdir(parents=True, exist_ok=True)
    for i in range(len(labels)):
        _rgb(rng).save(base / "jpg" / f"image_{i + 1:05d}.jpg")
    savemat(base / "imagelabels.mat", {"labels": np.array([labels], dtype=np.uint8)})
    return base


def write_imagenet(root: Path, wnids=("n01530575", "n01440764", "n02102040"), per_class: int = 3) -> Path:
    """imagenet/train/<wnid>/<wnid>_<n>.JPEG (RGB JPEGs of varied sizes, one grayscale), as ILSVRC-2012 extracts."""

    rng = np.random.default_rng(17)
    base = root / "imagenet" / "train"
    for c, wnid in enumerate(wnids):
        (base / wnid).mkdir(parents=True, exist_ok=True)
        for k in range(per_class):
            image = _rgb(rng, (20 + 7 * k, 30 + 5 * c))
            (image.convert("L") if (c, k) == (0, 0) else image).save(
                base / wnid / f"{wnid}_{k + 1}.JPEG", format="JPEG"
            )
    return base
