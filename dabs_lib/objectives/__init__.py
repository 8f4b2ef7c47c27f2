"""SSL objectives, one file each, plus the two reference trainings the analysis needs.

Every objective is an nn.Module built as `OBJECTIVES[name](encoder, config)` with
`config` its own frozen dataclass `Config`; `forward(inputs, labels)` returns
`(loss, metrics)`, metrics a dict of detached scalar tensors logged under the
objective's name.
"""
from dabs_lib.objectives.capri import Capri
from dabs_lib.objectives.emix import EMix
from dabs_lib.objectives.mae import MaskedPrediction
from dabs_lib.objectives.none import NoPretraining
from dabs_lib.objectives.shed import ShED
from dabs_lib.objectives.supervised import Supervised

OBJECTIVES = {
    "capri": Capri,
    "emix": EMix,
    "mae": MaskedPrediction,
    "none": NoPretraining,
    "shed": ShED,
    "supervised": Supervised,
}

# The SSL objectives a search compares (the other two are baselines).
SSL_OBJECTIVES = ("capri", "emix", "mae", "shed")
