import pytest
import torch

from dabs_lib.checkpoints import CheckpointMismatch, encoder_fingerprint, load_encoder, save_encoder
from dabs_lib.encoder import Encoder
from dabs_lib.model_config import ModelConfig
from dabs_lib.specs import Image2dSpec, TabularSpec

SPECS = (Image2dSpec(8, 2, 1),)
CONFIG = ModelConfig(embed_dim=32, depth=2, num_heads=2, mlp_dim=64, out_dim=16)


def test_round_trip_restores_identical_outputs(tmp_path):
    torch.manual_seed(0)
    encoder = Encoder(SPECS, CONFIG).eval()
    path = save_encoder(tmp_path / "e.pt", encoder, {"config": {"lr": 0.001}})
    loaded = load_encoder(path, specs=SPECS, config=CONFIG).eval()
    x = torch.randn(3, 1, 8, 8)
    assert torch.equal(encoder([x]).pooled, loaded([x]).pooled)
    assert encoder_fingerprint(encoder) == encoder_fingerprint(loaded)
    assert not list(tmp_path.glob("*.tmp")), "atomic write leaves no temp file"


def test_loading_into_other_specs_names_both(tmp_path):
    path = save_encoder(tmp_path / "e.pt", Encoder(SPECS, CONFIG))
    with pytest.raises(CheckpointMismatch) as error:
        load_encoder(path, specs=(TabularSpec(30),))
    assert "Image2dSpec" in str(error.value) and "TabularSpec" in str(error.value)


def test_loading_into_other_config_names_both(tmp_path):
    path = save_encoder(tmp_path / "e.pt", Encoder(SPECS, CONFIG))
    other = ModelConfig(embed_dim=32, depth=3, num_heads=2, mlp_dim=64, out_dim=16)
    with pytest.raises(CheckpointMismatch, match="depth=2.*depth=3"):
        load_encoder(path, config=other)


def test_weights_change_the_fingerprint():
    a, b = Encoder(SPECS, CONFIG), Encoder(SPECS, CONFIG)
    assert encoder_fingerprint(a) != encoder_fingerprint(b)


def test_not_a_checkpoint_is_refused(tmp_path):
    path = tmp_path / "x.pt"
    torch.save({"weights": torch.zeros(1)}, path)
    with pytest.raises(CheckpointMismatch, match="not a dabs-tune encoder checkpoint"):
        load_encoder(path)


def test_checkpoint_saved_before_head_dim_loads_as_it_was_trained(tmp_path):
    """Format-1 checkpoints written before head_dim existed had inner width D and attention dropout."""
    old = ModelConfig(embed_dim=32, depth=2, num_heads=2, head_dim=16, attention_dropout=0.1, mlp_dim=64, out_dim=16)
    torch.manual_seed(0)
    encoder = Encoder(SPECS, old).eval()
    path = save_encoder(tmp_path / "old.pt", encoder)
    payload = torch.load(path, weights_only=True)
    for name in ("head_dim", "attention_dropout", "final_norm", "mean_pool_cls"):
        del payload["model_config"][name]
    torch.save(payload, path)
    loaded = load_encoder(path).eval()
    assert loaded.config == old
    x = torch.randn(2, 1, 8, 8)
    assert torch.equal(encoder([x]).pooled, loaded([x]).pooled)
