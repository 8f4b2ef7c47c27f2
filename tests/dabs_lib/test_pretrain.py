"""pretrain(config) for every objective, the typed config, and the Lightning system's schedule."""

import dataclasses
import math

import lightning as L
import pytest
import torch

from dabs_lib.checkpoints import load_encoder
from dabs_lib.config import PretrainConfig, config_from_dict, effective_config
from dabs_lib.domains import DOMAINS, get_domain
from dabs_lib.domains.base import TensorSplit
from dabs_lib.initial import initial_encoder
from dabs_lib.objectives import OBJECTIVES
from dabs_lib.pretrain import pretrain
from dabs_lib.system import online_loss_and_score, warmup_cosine
from tests.dabs_lib.datasets.miniature_media import write_chexpert


@pytest.mark.parametrize("objective", sorted(OBJECTIVES))
def test_pretrain_smoke_every_objective(objective, tmp_path):
    config = config_from_dict({"domain": "digits", "objective": objective, "smoke_test": True, "max_steps": 3})
    result = pretrain(config, output_dir=tmp_path, logger=False)
    assert result.steps == (0 if objective == "none" else 3)
    encoder = load_encoder(result.checkpoint_path)
    assert encoder.config == result.encoder.config
    if objective != "none":
        assert math.isfinite(result.metrics["train/loss"])


@pytest.mark.parametrize("objective", ["none", "shed"])
def test_initial_encoder_is_where_pretraining_starts(objective, tmp_path):
    """The baseline trial evaluates `initial_encoder` without Lightning: it must be the very
    encoder `pretrain` builds for the same seed (and, for `none`, returns untrained)."""
    # One step at a vanishing learning rate (max_steps >= 1, dabs_lib.settings_rules): the encoder as built.
    config = config_from_dict(
        {"domain": "tabular", "objective": objective, "smoke_test": True, "max_steps": 1, "lr": 1e-30, "seed": 3}
    )
    built = pretrain(config, output_dir=tmp_path, logger=False).encoder.state_dict()
    initial = initial_encoder(effective_config(config), get_domain("tabular", smoke=True)).state_dict()
    assert built.keys() == initial.keys() and all(torch.allclose(built[k], initial[k], atol=1e-6) for k in built)
    other = initial_encoder(
        effective_config(config_from_dict({"domain": "tabular", "smoke_test": True, "seed": 4})),
        get_domain("tabular", smoke=True),
    ).state_dict()
    assert not all(torch.equal(other[k], initial[k]) for k in other)


def test_same_seed_same_weights(tmp_path):
    config = config_from_dict({"domain": "tabular", "objective": "shed", "smoke_test": True, "max_steps": 3})
    a = pretrain(config, output_dir=tmp_path / "a", logger=False).encoder.state_dict()
    b = pretrain(config, output_dir=tmp_path / "b", logger=False).encoder.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


class PrecisionSpy(L.Callback):
    """What the trainer ran in, and the dtype of the encoder's first linear layer's outputs in training."""

    def __init__(self):
        self.precision, self.dtypes = "", set()

    def on_train_start(self, trainer, module):
        self.precision = trainer.precision
        linear = next(m for m in module.encoder.modules() if isinstance(m, torch.nn.Linear))
        linear.register_forward_hook(lambda m, args, out: self.dtypes.add(out.dtype) if m.training else None)


def test_precision_bf16_mixed_trains_in_bf16_autocast_on_a_cpu(tmp_path):
    spies = {}
    for precision in ("auto", "bf16-mixed"):
        config = config_from_dict(
            {"domain": "tabular", "objective": "shed", "smoke_test": True, "max_steps": 2, "precision": precision}
        )
        spies[precision] = spy = PrecisionSpy()
        result = pretrain(config, output_dir=tmp_path / precision, callbacks=[spy], logger=False)
        assert math.isfinite(result.metrics["train/loss"])
    assert spies["auto"].precision == "32-true" and spies["bf16-mixed"].precision == "bf16-mixed"
    assert spies["auto"].dtypes == {torch.float32}
    assert spies["bf16-mixed"].dtypes == {torch.bfloat16}  # the steps ran under CPU bf16 autocast
    with pytest.raises(ValueError, match=r"`precision` must be one of .*'bf16-mixed'.*, but got 'fp16' in --set"):
        config_from_dict({"precision": "fp16"}, source="--set")


def test_config_round_trips_through_the_flat_dict():
    config = config_from_dict({"objective": "capri", "lr": 1e-3, "depth": 2, "temperature": 0.1})
    assert config_from_dict(config.to_dict()) == config
    assert isinstance(config, PretrainConfig) and config.objective_config.temperature == 0.1


def test_unknown_key_names_the_source():
    with pytest.raises(ValueError, match="unknown key 'tempreature' in my.yaml"):
        config_from_dict({"objective": "emix", "tempreature": 0.1}, source="my.yaml")


def test_ints_become_floats_where_floats_are_meant():
    assert config_from_dict({"lr": 1}).lr == 1.0 and isinstance(config_from_dict({"lr": 1}).lr, float)


def test_warmup_then_cosine():
    assert warmup_cosine(0, 10, 100) == pytest.approx(0.1)
    assert warmup_cosine(9, 10, 100) == pytest.approx(1.0)
    assert warmup_cosine(55, 10, 100) == pytest.approx(0.5)
    assert warmup_cosine(100, 10, 100) == pytest.approx(0.0)


TINY_MODEL = {"embed_dim": 32, "depth": 1, "num_heads": 2, "mlp_dim": 32, "out_dim": 32}


class _Rows(torch.utils.data.Dataset):
    """A split read one row at a time, as real (memory-mapped, decoded) sets are."""

    def __init__(self, split):
        self.split = split

    def __len__(self):
        return len(self.split)

    def __getitem__(self, index):
        return self.split[index]


def _indexed_digits(row_by_row: bool):
    """Digits whose pretraining label is the row's index, so a batch names its rows."""

    def build(seed=42, data_root="", smoke=False):
        domain = get_domain("digits", seed=seed, smoke=True)
        split = TensorSplit(domain.pretrain.inputs, torch.arange(len(domain.pretrain)), "indexed")
        return dataclasses.replace(domain, pretrain=_Rows(split) if row_by_row else split)

    return build


class _Recorder(L.Callback):
    """Rows of every step's batch; a checkpoint after step `save_at`, where trials write theirs."""

    def __init__(self, save_at: int = -1, path=None):
        self.seen, self.save_at, self.path = [], save_at, path

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        self.seen.append((trainer.global_step, batch[1].tolist()))

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        if trainer.global_step == self.save_at:
            trainer.save_checkpoint(self.path)


@pytest.mark.parametrize("row_by_row", [False, True], ids=["in-memory", "row-by-row"])
def test_batches_follow_the_global_step_over_epochs_and_across_a_resume(row_by_row, tmp_path, monkeypatch):
    """Three 3-step epochs (eval_every-sized, as in a search trial) read new rows each
    epoch, and a run resumed after step 3 reads exactly the batches, runs exactly the
    steps and ends with exactly the weights of the uninterrupted run."""
    name = "indexed_rows" if row_by_row else "indexed_tensor"
    monkeypatch.setitem(DOMAINS, name, _indexed_digits(row_by_row))
    config = config_from_dict({"domain": name, "objective": "shed", "max_steps": 9, **TINY_MODEL})
    whole = _Recorder(save_at=3, path=tmp_path / "step3.ckpt")
    uninterrupted = pretrain(config, tmp_path / "a", [whole], steps_per_epoch=3, logger=False)
    assert [step for step, _ in whole.seen] == list(range(9))
    epochs = [[rows for _, rows in whole.seen[i : i + 3]] for i in (0, 3, 6)]
    assert epochs[0] != epochs[1] and epochs[1] != epochs[2] and epochs[0] != epochs[2]

    after = _Recorder()
    resumed = pretrain(
        config, tmp_path / "b", [after], resume_from=tmp_path / "step3.ckpt", steps_per_epoch=3, logger=False
    )
    assert after.seen == whole.seen[3:] and resumed.steps == 9
    a, b = uninterrupted.encoder.state_dict(), resumed.encoder.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)  # same batches and the same random draws


def test_chexpert_pretrains_with_a_multilabel_online_probe(tmp_path):
    """CheXpert's pretraining labels are multi-hot (B, 5): the online probe must use BCE and
    macro AUROC over labels (softmax cross-entropy crashed at step 1). Real on-disk format."""
    write_chexpert(tmp_path)
    config = config_from_dict(
        {
            "domain": "chexpert",
            "objective": "shed",
            "max_steps": 3,
            "batch_size": 8,
            "data_root": str(tmp_path),
            **TINY_MODEL,
        }
    )
    result = pretrain(config, output_dir=tmp_path / "run", logger=False)
    assert result.steps == 3
    assert math.isfinite(result.metrics["online/auroc"]) and 0 <= result.metrics["online/auroc"] <= 1


def test_online_probe_follows_the_kind_of_the_labels():
    logits = torch.tensor([[2.0, -1.0, 0.5], [-1.0, 2.0, 0.0]])
    loss, acc = online_loss_and_score("multiclass", "accuracy", logits, torch.tensor([0, 2]))
    assert loss == pytest.approx(torch.nn.functional.cross_entropy(logits, torch.tensor([0, 2])).item())
    assert acc.item() == 0.5
    multi_hot = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    loss, acc = online_loss_and_score("multilabel", "accuracy", logits, multi_hot)
    assert loss == pytest.approx(torch.nn.functional.binary_cross_entropy_with_logits(logits, multi_hot).item())
    assert acc.item() == pytest.approx(5 / 6)  # per-label accuracy: only logit 0.0 (p = 0.5) is wrong
    _, auroc = online_loss_and_score("multilabel", "auroc", logits, multi_hot)
    assert auroc.item() == 1.0  # every label's positive outranks its negative


def test_pretraining_labels_of_the_wrong_shape_are_refused_before_training(tmp_path, monkeypatch):
    def build(seed=42, data_root="", smoke=False):
        domain = get_domain("digits", seed=seed, smoke=True)
        labelled = TensorSplit(domain.pretrain.inputs, torch.zeros(len(domain.pretrain), dtype=torch.long), "p")
        return dataclasses.replace(domain, pretrain=labelled, pretrain_num_classes=5, pretrain_kind="multilabel")

    monkeypatch.setitem(DOMAINS, "digits_wrong_kind", build)
    config = config_from_dict({"domain": "digits_wrong_kind", "objective": "shed", "max_steps": 2, **TINY_MODEL})
    with pytest.raises(ValueError, match=r"kind 'multilabel' must have shape \(5,\), but the first has shape \(\)"):
        pretrain(config, output_dir=tmp_path, logger=False)
