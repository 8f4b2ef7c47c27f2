"""The encoder every run starts from, built without Lightning.

`pretrain` builds its encoder with this function, so the random-init baseline (`none`),
which never trains, can be evaluated without importing Lightning (about 10 s of imports per
fresh Ray worker) and still be the very encoder a pretraining run of the same seed starts from.
"""

from __future__ import annotations

import torch

from dabs_lib.config import PretrainConfig
from dabs_lib.domains.base import Domain
from dabs_lib.encoder import Encoder


def initial_encoder(config: PretrainConfig, domain: Domain) -> Encoder:
    """The seeded random-init encoder of `config` for `domain`'s input specs."""
    torch.manual_seed(config.seed)
    return Encoder(domain.specs, config.model)


def random_init_like(encoder: Encoder, seed: int) -> Encoder:
    """`encoder`'s architecture (specs and model config) at the seeded random init: the same
    weights `initial_encoder` gives a config of that model and seed, never trained."""
    torch.manual_seed(seed)
    return Encoder(encoder.specs, encoder.config).eval()
