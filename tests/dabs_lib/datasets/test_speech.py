import logging

import numpy as np
import pytest
import soundfile
import torch

from dabs_lib.datasets import audio, cache, speech
from dabs_lib.datasets import speech_sources as src
from dabs_lib.datasets.errors import DatasetFileError, ManualDownloadError
from tests.dabs_lib.datasets.miniature_media import (
    write_audio_mnist,
    write_fluent_speech,
    write_librispeech,
    write_speech_commands,
    write_voxceleb1,
)


@pytest.fixture(scope="module")
def speech_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("speech")
    write_librispeech(root)
    write_audio_mnist(root)
    write_speech_commands(root)
    write_fluent_speech(root)
    write_voxceleb1(root)
    return root


@pytest.fixture(scope="module")
def domain(speech_root):
    return speech.build(data_root=str(speech_root))


def test_speech_specs_tasks_and_metrics(domain):
    assert domain.specs[0] == speech.SPEC and domain.specs[0].num_tokens == 196
    expected = {
        "librispeech": 2,
        "audio_mnist": 10,
        "speech_commands": 36,
        "fluent_action": 6,
        "fluent_object": 14,
        "fluent_location": 4,
        "voxceleb1": 3,
    }
    assert {n: t.num_classes for n, t in domain.tasks.items()} == expected
    assert all(t.kind == "multiclass" and t.metric == "accuracy" for t in domain.tasks.values())
    assert domain.default_task == "librispeech" and domain.pretrain_num_classes == 4
    assert len(domain.pretrain) == 6


def test_spectrogram_items_are_zscored_224(domain):
    (spec,), label = domain.pretrain[0]
    assert spec.shape == (1, 224, 224) and spec.dtype == torch.float32
    train = torch.stack([domain.pretrain[i][0][0] for i in range(len(domain.pretrain))])
    assert abs(float(train.mean())) < 1e-2 and abs(float(train.std()) - 1) < 1e-2  # z-scored on train clips


def test_a_tone_peaks_at_its_mel_band(tmp_path):
    rate = 16000
    t = np.arange(rate // 2) / rate
    wave = audio.pad_or_crop((0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32))
    db = audio.log_mel(wave[None], rate)[0, 0]  # (224 mels, 224 frames)
    freqs = np.linspace(0, rate / 2, 1025)
    band = int(np.argmax(db[:, 5]))
    mel_centres = audio._mel(rate).mel_scale.fb.numpy().argmax(axis=0)  # (224,) peak FFT bin per band
    assert abs(freqs[mel_centres[band]] - 1000) < 60
    assert db[:, 200].max() <= db.max() - audio.TOP_DB + 1e-3  # silence after the clip: the 80 dB floor


def test_dabs_speaker_split_and_official_lists(domain):
    task = domain.tasks["librispeech"]
    assert len(task.train) + len(task.val) == 8 and len(task.test) == 2  # 80/20 of 5 clips for 2 speakers
    assert sorted(task.test.labels.tolist()) == [0, 1]
    rng = np.random.RandomState(42)
    expected_test = []
    for first_row in (5, 0):  # rows sort by utterance id ("174-..." < "84-..."); speakers numerically (84, 174)
        members = np.arange(5) + first_row
        rng.shuffle(members)
        expected_test += members[4:].tolist()
    assert sorted(task.test.rows.tolist()) == sorted(expected_test)
    mnist = domain.tasks["audio_mnist"]
    assert (len(mnist.train), len(mnist.val), len(mnist.test)) == (3, 3, 3)  # speakers 1 / 12 / 26
    commands = domain.tasks["speech_commands"]
    assert (len(commands.train), len(commands.val), len(commands.test)) == (4, 3, 3)  # + background noise
    assert 35 in commands.train.labels.tolist()
    fluent = domain.tasks["fluent_object"]
    assert (len(fluent.train), len(fluent.val), len(fluent.test)) == (6, 3, 3)
    assert fluent.test.labels.tolist() == [2, 3, 9]  # lights, volume, shoes


def test_voxceleb1_follows_iden_split(domain):
    task = domain.tasks["voxceleb1"]
    assert (len(task.train), len(task.val), len(task.test)) == (6, 3, 3)  # iden_split.txt's 1 / 2 / 3
    assert task.train.labels.tolist() == [2, 2, 0, 0, 1, 1]  # file order; id10001 < id10002 < id10003
    assert task.val.labels.tolist() == [2, 0, 1] and task.test.labels.tolist() == [2, 0, 1]
    (spec,), label = task.test[1]
    assert spec.shape == (1, 224, 224) and spec.dtype == torch.float32 and int(label) == 0
    train = torch.stack([task.train[i][0][0] for i in range(len(task.train))])
    assert abs(float(train.mean())) < 1e-2 and abs(float(train.std()) - 1) < 1e-2  # its own z-score


def test_voxceleb1_smoke_keeps_every_speaker(speech_root):
    speakers, clips = src.voxceleb1(speech_root / "voxceleb1", limit=1)
    assert speakers == ["id10001", "id10002", "id10003"]
    assert clips.parts.tolist() == [0, 1, 2] and clips.labels.tolist() == [2, 2, 2]
    assert [p.relative_to(speech_root / "voxceleb1" / "wav").as_posix() for p in clips.paths] == [
        "id10003/Xy1/00001.wav",
        "id10003/Zz9/00001.wav",
        "id10003/Ab2/00001.wav",
    ]


def test_second_build_does_no_preprocessing(speech_root, domain):
    before = dict(cache.PREPROCESS_COUNT)
    again = speech.build(data_root=str(speech_root), seed=3)
    assert dict(cache.PREPROCESS_COUNT) == before
    assert again.pretrain.fingerprint == domain.pretrain.fingerprint


def test_optional_sets_are_skipped_with_a_warning(tmp_path, caplog):
    write_librispeech(tmp_path, dev_utts=2)
    with caplog.at_level(logging.WARNING):
        domain = speech.build(data_root=str(tmp_path), smoke=True)
    assert list(domain.tasks) == ["librispeech"]
    assert "git clone https://github.com/soerenab/AudioMNIST" in caplog.text
    assert "voxceleb/vox1.html" in caplog.text and "iden_split.txt" in caplog.text


def test_voxceleb1_missing_folder_listed_wav_and_bad_split_line(tmp_path):
    with pytest.raises(ManualDownloadError, match="voxceleb/vox1.html") as info:
        src.VOXCELEB1.check(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "voxceleb1" / "iden_split.txt") in message and "wav/id10001/" in message
    base = write_voxceleb1(tmp_path)
    (base / "wav" / "id10002" / "m3P" / "00001.wav").unlink()
    with pytest.raises(DatasetFileError, match="m3P/00001.wav.*listed in iden_split.txt"):
        src.voxceleb1(base, None)
    (base / "iden_split.txt").write_text("1 id10001/1zc/00001.wav\n4 id10001/1zc/00002.wav\n")
    with pytest.raises(DatasetFileError, match="iden_split.txt: line 2 must be"):
        src.voxceleb1(base, None)


def test_missing_librispeech_names_openslr(tmp_path):
    with pytest.raises(ManualDownloadError, match="openslr.org/12"):
        speech.build(data_root=str(tmp_path))


def test_corrupt_and_missing_audio(tmp_path):
    base = write_librispeech(tmp_path, dev_utts=2)
    bad = base / "dev-clean" / "84" / "1000" / "84-1000-0001.flac"
    bad.write_bytes(bad.read_bytes()[:200])
    with pytest.raises(DatasetFileError, match="84-1000-0001.flac"):
        speech.build(data_root=str(tmp_path))
    assert not list((tmp_path / "librispeech" / "processed").glob("dev-clean-*"))
    bad.unlink()
    with pytest.raises(DatasetFileError, match="84-1000-0001.flac.*trans.txt"):
        speech.build(data_root=str(tmp_path))


def test_truncated_wav_is_detected(tmp_path):
    path = tmp_path / "a.wav"
    soundfile.write(path, np.zeros(4000, np.float32), 16000, subtype="PCM_16")
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(DatasetFileError, match="a.wav.*truncated"):
        audio.read_audio(path)


def test_empty_transcript_is_refused(tmp_path):
    """The release never ships an empty trans.txt; skipping it used to drop a chapter silently
    (a whole speaker here: 1 dev-clean speaker instead of 2)."""
    base = write_librispeech(tmp_path, dev_utts=2)
    transcript = base / "dev-clean" / "174" / "1000" / "174-1000.trans.txt"
    transcript.write_text("")
    with pytest.raises(DatasetFileError) as info:
        speech.build(data_root=str(tmp_path))
    assert str(info.value).startswith(f"{transcript}: is empty")


def test_a_folder_where_an_audio_file_must_be(tmp_path):
    base = write_librispeech(tmp_path, dev_utts=2)
    flac = base / "dev-clean" / "84" / "1000" / "84-1000-0001.flac"
    flac.unlink()
    flac.mkdir()
    with pytest.raises(DatasetFileError) as info:
        speech.build(data_root=str(tmp_path))
    assert str(info.value).startswith(f"{flac}: is a directory, but must be the FLAC file 84-1000.trans.txt lists")
    with pytest.raises(DatasetFileError) as info:
        audio.read_audio(flac)
    assert str(info.value).startswith(f"{flac}: is a directory, but must be an audio file")
