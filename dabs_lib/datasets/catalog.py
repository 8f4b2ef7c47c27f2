"""Where each image, medical, tabular, genomics and sensor dataset lives and how to get it.

Torch-free (see source.py): status, `list domains` and the search preflight import only this.
"""

from __future__ import annotations

from dabs_lib.datasets.source import Archive, Source

# --- cifar ---
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
FOLDER = "cifar-10-batches-py"
CIFAR10 = Source(
    name="cifar10",
    required=tuple(f"{FOLDER}/{b}" for b in (*TRAIN_BATCHES, TEST_BATCH)),
    how_to_get=(
        "Download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz (md5 c58f30108f718f92721af3b95e74349a) "
        "and extract it in {dir}, so that {dir}/cifar-10-batches-py/data_batch_1 exists."
    ),
    archives=(
        Archive("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", md5="c58f30108f718f92721af3b95e74349a"),
    ),
)


# --- imagenet ---
IMAGENET = Source(
    name="imagenet",
    required=("train/",),
    how_to_get=(
        "Register at https://image-net.org/download-images , download ILSVRC2012_img_train.tar (ILSVRC 2012, "
        "training images) and extract it into {dir}/train, then extract each class archive into its own "
        "folder (cd {dir}/train && for f in *.tar; do mkdir ${{f%.tar}} && tar -xf $f -C ${{f%.tar}} && rm $f; "
        "done), so that {dir}/train/n01440764/*.JPEG exists. Used instead of CIFAR-10 to pretrain `cifar10`."
    ),
)


# --- natural ---
AIRCRAFT = Source(
    "aircraft",
    ("fgvc-aircraft-2013b/data/images_variant_trainval.txt",),
    "Download https://www.robots.ox.ac.uk/~vgg/data/fgvc-aircraft/archives/fgvc-aircraft-2013b.tar.gz "
    "and extract it in {dir}, so that {dir}/fgvc-aircraft-2013b/data/images_box.txt exists.",
    (Archive("https://www.robots.ox.ac.uk/~vgg/data/fgvc-aircraft/archives/fgvc-aircraft-2013b.tar.gz"),),
)
CU_BIRDS = Source(
    "cu_birds",
    ("CUB_200_2011/images.txt",),
    "Download CUB_200_2011.tgz from https://www.vision.caltech.edu/datasets/cub_200_2011/ and extract it "
    "in {dir}, so that {dir}/CUB_200_2011/images.txt exists.",
)
DTD = Source(
    "dtd",
    ("dtd/labels/train1.txt",),
    "Download https://www.robots.ox.ac.uk/~vgg/data/dtd/download/dtd-r1.0.1.tar.gz and extract it in {dir}, "
    "so that {dir}/dtd/labels/train1.txt exists.",
    (Archive("https://www.robots.ox.ac.uk/~vgg/data/dtd/download/dtd-r1.0.1.tar.gz"),),
)
TRAFFIC_SIGN = Source(
    "traffic_sign",
    ("GTSRB/Final_Training/Images/",),
    "Download https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/"
    "GTSRB_Final_Training_Images.zip and unzip it in {dir}, so that "
    "{dir}/GTSRB/Final_Training/Images/00000 exists.",
    (Archive("https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/GTSRB_Final_Training_Images.zip"),),
)
VGG_FLOWER = Source(
    "vgg_flower",
    ("imagelabels.mat", "jpg/"),
    "Download https://www.robots.ox.ac.uk/~vgg/data/flowers/102/102flowers.tgz (extract it in {dir}, "
    "giving {dir}/jpg/) and https://www.robots.ox.ac.uk/~vgg/data/flowers/102/imagelabels.mat into {dir}.",
    (
        Archive("https://www.robots.ox.ac.uk/~vgg/data/flowers/102/102flowers.tgz"),
        Archive("https://www.robots.ox.ac.uk/~vgg/data/flowers/102/imagelabels.mat", extract=False),
    ),
)
NATURAL = (AIRCRAFT, CU_BIRDS, DTD, TRAFFIC_SIGN, VGG_FLOWER)  # CIFAR-10's natural-image transfer sets


# --- medical ---
CHEXPERT = Source(
    name="chexpert",
    required=(
        "CheXpert-v1.0-small/train.csv|CheXpert-v1.0/train.csv",
        "CheXpert-v1.0-small/valid.csv|CheXpert-v1.0/valid.csv",
    ),
    how_to_get=(
        "Register at https://stanfordmlgroup.github.io/competitions/chexpert/ , download CheXpert-v1.0-small.zip "
        "(as DABS recommends) and unzip it in {dir}, so that {dir}/CheXpert-v1.0-small/train.csv exists."
    ),
)
XRAY8 = Source(
    name="chestx_ray8",
    required=("images/", "Data_Entry_2017_v2020.csv|Data_Entry_2017.csv|metadata.csv"),
    how_to_get=(
        "Download the 12 images_*.tar.gz archives and Data_Entry_2017_v2020.csv from "
        "https://nihcc.app.box.com/v/ChestXray-NIHCC , extract the archives in {dir} "
        "(giving {dir}/images/*.png) and put the CSV at {dir}/Data_Entry_2017_v2020.csv."
    ),
)


# --- eurosat ---
EUROSAT = Source(
    name="eurosat",
    required=("EuroSAT_MS/|EuroSATallBands/|ds/",),
    how_to_get=(
        "Download the multispectral EuroSAT release https://zenodo.org/records/7711810/files/EuroSAT_MS.zip "
        "(2 GB) and unzip it in {dir}, so that {dir}/EuroSAT_MS/AnnualCrop/AnnualCrop_1.tif exists. "
        "Reading it needs the tifffile package (pip install tifffile)."
    ),
    archives=(Archive("https://zenodo.org/records/7711810/files/EuroSAT_MS.zip"),),
)


# --- wm811k ---
TRUST_ENV = "DABS_TUNE_TRUST_PICKLES"
NPZ, PICKLE = "wm811k.npz", "LSWMD.pkl"
CONVERT = (
    "import sys, numpy as np, pandas as pd; sys.modules.setdefault('pandas.indexes', pd.core.indexes); "
    "df = pd.read_pickle('LSWMD.pkl'); maps = [np.asarray(m, dtype=np.uint8) for m in df.waferMap]; "
    "label = lambda v: str(np.asarray(v).ravel()[0]) if np.asarray(v).size else ''; "
    "np.savez('wm811k.npz', maps=np.concatenate([m.ravel() for m in maps]), "
    "shapes=np.array([m.shape for m in maps]), failureType=np.array([label(v) for v in df.failureType]))"
)
WM811K = Source(
    name="wm811k",
    required=(f"{NPZ}|{PICKLE}",),
    how_to_get=(
        "Download LSWMD.pkl from https://www.kaggle.com/datasets/qingyi/wm811k-wafer-map (free account) and, "
        "in a Python where you accept unpickling it, convert it once in {dir}: "
        f'python -c "{CONVERT}" so that {{dir}}/{NPZ} exists. (Or put LSWMD.pkl in {{dir}} and set '
        f"{TRUST_ENV}=1 to read the pickle directly; unpickling runs code from the file: trusted files only.)"
    ),
)


# --- higgs ---
FILE = "HIGGS.csv.gz"
HIGGS = Source(
    name="higgs",
    required=(FILE,),
    how_to_get=(
        "Download https://archive.ics.uci.edu/ml/machine-learning-databases/00280/HIGGS.csv.gz (2.6 GB) "
        "into {dir}, so that {dir}/HIGGS.csv.gz exists (keep it compressed)."
    ),
    archives=(Archive("https://archive.ics.uci.edu/ml/machine-learning-databases/00280/HIGGS.csv.gz", extract=False),),
)


# --- genomics ---
FILES = {"pretrain": "genomicsPretrain.csv", "id": "genomicsTransferID.csv", "ood": "genomicsTransferOOD.csv"}
GENOMICS = Source(
    name="genomics",
    required=tuple(FILES.values()),
    how_to_get=(
        "Export TensorFlow Datasets' genomics_ood as DABS does: for split, name in (('train', 'genomicsPretrain'), "
        "('validation', 'genomicsTransferID'), ('validation_ood', 'genomicsTransferOOD')): "
        "tfds.as_dataframe(tfds.load('genomics_ood', split=split)).to_csv(f'{dir}/{{name}}.csv'), "
        "so that {dir}/genomicsPretrain.csv exists."
    ),
)


# --- pamap2 ---
TRAIN_SUBJECTS = (1, 2, 3, 4, 7, 8, 9)
TEST_SUBJECTS = (5,)


def subject_file(subject: int) -> str:
    return f"PAMAP2_Dataset/Protocol/subject10{subject}.dat"


PAMAP2 = Source(
    name="pamap2",
    required=tuple(subject_file(s) for s in TRAIN_SUBJECTS + TEST_SUBJECTS),
    how_to_get=(
        "Download https://archive.ics.uci.edu/ml/machine-learning-databases/00231/PAMAP2_Dataset.zip and unzip it "
        "in {dir}, so that {dir}/PAMAP2_Dataset/Protocol/subject101.dat exists."
    ),
    archives=(Archive("https://archive.ics.uci.edu/ml/machine-learning-databases/00231/PAMAP2_Dataset.zip"),),
)
