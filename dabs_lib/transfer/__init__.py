"""Transfer evaluation: cached features and fast linear probes on the DABS metrics.

    result = evaluate_transfer("runs/x/encoder.pt", domain.tasks["digits"])  # TransferResult
    table = evaluate_domain(encoder, domain)  # tidy pandas DataFrame
    val_score, l2, seconds = probe_val(encoder, task)  # inside a search trial: no test split

Featurization runs once per (checkpoint, dataset, split, pooling, per-token) and is
cached (on disk by default, in memory with cache_dir=None); every probe reads the cache.
"""

from dabs_lib.transfer.cache import DEFAULT_CACHE_DIR, FeatureCache, cache_key, default_cache_dir
from dabs_lib.transfer.domain_table import evaluate_domain
from dabs_lib.transfer.evaluate import evaluate_transfer, probe_val
from dabs_lib.transfer.features import FeatureSet, featurize
from dabs_lib.transfer.metrics import METRICS, compute_metric
from dabs_lib.transfer.protocol import FewShotResult, ProbeProtocol, ProbeScore, TransferResult

__all__ = [
    "DEFAULT_CACHE_DIR",
    "FeatureCache",
    "FeatureSet",
    "FewShotResult",
    "METRICS",
    "ProbeProtocol",
    "ProbeScore",
    "TransferResult",
    "cache_key",
    "compute_metric",
    "default_cache_dir",
    "evaluate_domain",
    "evaluate_transfer",
    "featurize",
    "probe_val",
]
