"""The interface where an objective meets the core (the Lightning system, pretrain, the search).

Adding an objective = write a class that satisfies `ObjectiveClass` (its instances then satisfy
`Objective`) in dabs_lib/objectives/<name>.py, register it in `OBJECTIVES` under <name>, and give
it a search space search_spaces/<name>.yaml. mypy checks the registry against `ObjectiveClass`;
tests/dabs_lib/test_interfaces.py checks every registered entry at run time.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from torch import Tensor

from dabs_lib.encoder import Encoder


@runtime_checkable
class Objective(Protocol):
    """An objective instance: an nn.Module around the encoder it trains."""

    encoder: Encoder
    # detached (B, D) pooled feature of the last forward's encoded view (the online probe reads it), or None
    pooled: Tensor | None

    def forward(self, inputs: list[Tensor], labels: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        """(scalar loss, metrics): metrics are detached scalar tensors logged under the objective's name."""
        ...


class ObjectiveClass(Protocol):
    """What `OBJECTIVES[name]` is: the class, with its typed config and two flags."""

    Config: type[Any]  # a frozen dataclass whose fields are the objective's YAML/search names
    trains: bool  # False: nothing to optimize (the random-init baseline); the fit is skipped
    needs_labels: bool  # True: the pretraining split's labels are the loss's target (supervised twin)

    # `config` is the class's own Config; typed Any here since each class narrows it.
    def __call__(self, encoder: Encoder, config: Any = ...) -> Objective: ...
