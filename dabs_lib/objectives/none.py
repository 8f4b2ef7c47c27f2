"""The random-init baseline: no pretraining at all, so the probe scores an untrained encoder.

It is an objective so that a search can compare it like any other (DABS's "random
init" column); it has no settings and refuses to train.
"""

from __future__ import annotations


from torch import Tensor, nn

from dabs_lib.encoder import Encoder
from dabs_lib.objective_configs import NoPretrainingConfig


class NoPretraining(nn.Module):
    Config = NoPretrainingConfig
    trains = False
    needs_labels = False
    pooled: Tensor | None = None  # detached (B, D) pooled feature of the last forward (online probe)

    def __init__(self, encoder: Encoder, config: NoPretrainingConfig = NoPretrainingConfig()) -> None:
        super().__init__()
        self.encoder = encoder
        self.config = config

    def forward(self, inputs: list[Tensor], labels: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        raise RuntimeError(
            "objective 'none' never trains (trains=False): the random-init baseline must skip "
            "pretraining and go straight to transfer"
        )
