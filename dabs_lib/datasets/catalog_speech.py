"""Where each speech dataset lives and how to get it (torch-free; listers in speech_sources.py)."""

from __future__ import annotations

from dabs_lib.datasets.source import Archive, Source

PRETRAIN_SUBSETS = ("train-clean-100", "train-clean-360", "train-other-500")
_SLR = "https://www.openslr.org/resources/12/"
_SHA256 = {  # published by OpenSLR (as torchaudio lists them)
    "dev-clean": "76f87d090650617fca0cac8f88b9416e0ebf80350acb97b343a85fa903728ab3",
    "train-clean-100": "d4ddd1d5a6ab303066f14971d768ee43278a5f2a0aa43dc716b0e64ecbbbf6e2",
    "train-clean-360": "146a56496217e96c14334a160df97fffedd6e0a04e66b9c5af0d40be3c792ecf",
    "train-other-500": "ddb22f27f96ec163645d53215559df6aa36515f26e01dd70798188350adcb6d2",
}
LIBRISPEECH = Source(
    name="librispeech",
    required=tuple(f"LibriSpeech/{s}/" for s in (*PRETRAIN_SUBSETS, "dev-clean")),
    how_to_get=(
        "Download dev-clean, train-clean-100, train-clean-360 and train-other-500 (.tar.gz) from "
        "https://www.openslr.org/12 and extract them in {dir}, so that {dir}/LibriSpeech/dev-clean exists."
    ),
    archives=tuple(Archive(f"{_SLR}{s}.tar.gz", sha256=h) for s, h in _SHA256.items()),
)
AUDIO_MNIST = Source(
    name="audio_mnist",
    required=("AudioMNIST/data/",),
    how_to_get="Run `git clone https://github.com/soerenab/AudioMNIST {dir}/AudioMNIST` "
    "so that {dir}/AudioMNIST/data/01 exists.",
)
SPEECH_COMMANDS = Source(
    name="speech_commands",
    required=("validation_list.txt", "testing_list.txt"),
    how_to_get=(
        "Download http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz and extract it in {dir}, "
        "so that {dir}/testing_list.txt and {dir}/yes/ exist."
    ),
    archives=(Archive("http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz"),),
)
FLUENT_SPEECH = Source(
    name="fluent_speech",
    required=tuple(f"fluent_speech_commands_dataset/data/{s}_data.csv" for s in ("train", "valid", "test")),
    how_to_get=(
        "Request the Fluent Speech Commands dataset at https://fluent.ai/fluent-speech-commands-a-dataset-"
        "for-spoken-language-understanding-research/ and extract it in {dir}, so that "
        "{dir}/fluent_speech_commands_dataset/data/train_data.csv exists."
    ),
)
VOXCELEB1 = Source(
    name="voxceleb1",
    required=("iden_split.txt", "wav/"),
    how_to_get=(
        "Register at https://www.robots.ox.ac.uk/~vgg/data/voxceleb/vox1.html , download the VoxCeleb1 dev "
        "and test wav releases (vox1_dev_wav.zip, its parts concatenated, and vox1_test_wav.zip) and the "
        "identification split iden_split.txt (https://www.robots.ox.ac.uk/~vgg/data/voxceleb/meta/iden_split.txt; "
        "1 = train, 2 = val, 3 = test); unzip both archives in {dir}, so that "
        "{dir}/wav/id10001/1zcIwhmdeo4/00001.wav exists, and put the split file at {dir}/iden_split.txt."
    ),
)
TRANSFER = (AUDIO_MNIST, SPEECH_COMMANDS, FLUENT_SPEECH, VOXCELEB1)  # optional transfer sets
