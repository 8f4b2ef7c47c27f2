"""SSL objectives, one file each, plus the two reference trainings the analysis needs.

Every objective is an nn.Module built as `OBJECTIVES[name](encoder, config)` with
`config` its own frozen dataclass `Config`; `forward(inputs, labels)` returns
`(loss, metrics)`, metrics a dict of detached scalar tensors logged under the
objective's name. After a forward, `pooled` holds the detached (B, D) pooled feature of the
view it encoded (e-Mix: the clean view; ShED, mae, Capri: the corrupted view), or None;
the online probe reads it instead of encoding the batch again.

The interface is declared in dabs_lib/objectives/protocol.py (`ObjectiveClass`, `Objective`).
"""

from dabs_lib.objectives.capri import Capri
from dabs_lib.objectives.emix import EMix
from dabs_lib.objectives.mae import MaskedPrediction
from dabs_lib.objectives.none import NoPretraining
from dabs_lib.objectives.protocol import Objective, ObjectiveClass
from dabs_lib.objectives.shed import ShED
from dabs_lib.objectives.supervised import Supervised

OBJECTIVES: dict[str, ObjectiveClass] = {
    "capri": Capri,
    "emix": EMix,
    "mae": MaskedPrediction,
    "none": NoPretraining,
    "shed": ShED,
    "supervised": Supervised,
}

# The SSL objectives a search compares (the other two are baselines).
SSL_OBJECTIVES = ("capri", "emix", "mae", "shed")

__all__ = ["OBJECTIVES", "SSL_OBJECTIVES", "Objective", "ObjectiveClass"]
