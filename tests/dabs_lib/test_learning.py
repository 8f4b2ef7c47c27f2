"""Pretraining must help: on real data (scikit-learn's digits), a short CPU ShED pretraining
beats the random-init encoder on the novel-class transfer task (digits 5-9, never seen in
pretraining), for two seeds. The numbers measured when this test was written are in the
README ("Does pretraining help?")."""
import pytest
import torch

from dabs_lib.config import config_from_dict
from dabs_lib.domains import get_domain
from dabs_lib.pretrain import pretrain
from dabs_lib.transfer import evaluate_transfer

pytestmark = pytest.mark.slow

MODEL = dict(domain="digits", embed_dim=64, depth=4, num_heads=4, mlp_dim=128, out_dim=64)
SHED = dict(objective="shed", max_steps=600, lr=1e-3, batch_size=64, warmup_steps=20, corruption_rate=0.3)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two small matmuls per step: threads only add contention here
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("seed", [0, 1])
def test_shed_beats_random_init_on_novel_digits(seed, tmp_path):
    task = get_domain("digits").tasks["novel"]
    pretrained = pretrain(config_from_dict({**MODEL, **SHED, "seed": seed}), tmp_path / "shed", logger=False)
    random_init = pretrain(config_from_dict({**MODEL, "objective": "none", "seed": seed}), tmp_path / "none",
                           logger=False)
    shed = evaluate_transfer(pretrained.encoder, task, cache_dir=None).score
    baseline = evaluate_transfer(random_init.encoder, task, cache_dir=None).score
    print(f"seed {seed}: shed {shed:.4f}, random init {baseline:.4f}")
    assert shed > baseline + 0.02
