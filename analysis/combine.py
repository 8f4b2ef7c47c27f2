"""Combined encoders (`analyze --combine`): probe the concatenated pooled features of several encoders.

    table = combined_scores({"emix": "a/encoder.pt", "shed": "b/encoder.pt"}, domain)   # singles, pairs, all
    features = concat_features([f_emix, f_shed])                                        # (M, D1 + D2)

Ericsson et al. found that concatenating encoders with different invariances transfers
most broadly. Here the encoders are the best trial of each objective of a domain: every
single one, every pair and (with three or more) all of them are probed with the same
frozen linear protocol as a trial's final score (L2 path fitted on train, chosen on val,
scored once on test), on features read through the transfer feature cache, so a
single encoder's row repeats its trial's own test score. A combination is named by its
members joined with `+` in the given order, e.g. `emix+shed`.

Width is a confound: a combination of k encoders gives the probe k times the features, and
on a domain whose task needs more features than one pooled vector has, two untrained
encoders concatenated beat either alone. So each combination gets an equal-width control:
the same members' architectures at a seeded random init (`untrained:emix+untrained:shed`,
never trained), probed the same way. `combined_vs_single` sets each combination's gain over
its best member against its control's (`width_gain`), paired by seed (`gain_over_width`).
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pandas as pd

from dabs_lib.domains.base import Domain, TransferTask
from dabs_lib.encoder import Encoder
from dabs_lib.transfer.cache import DEFAULT_CACHE_DIR, FeatureCache, _DefaultCacheDir, resolve_cache
from dabs_lib.transfer.features import FeatureSet, resolve_device
from dabs_lib.transfer.probes import cpu_threads_for
from dabs_lib.transfer.protocol import ProbeProtocol
from dabs_lib.transfer.selection import score_probe, select_probe

JOIN = "+"  # between the members of a combination's name
UNTRAINED = "untrained:"  # a width-control member: an encoder's architecture at random init
DEFAULT_PROTOCOL = ProbeProtocol()  # the frozen linear probe of a trial's final score
COMBINED_COLUMNS = ["domain", "combination", "members", "task", "val", "test", "dim"]
VERSUS_COLUMNS = [
    "domain",
    "task",
    "combination",
    "test",
    "test_ci95",
    "best_single",
    "best_single_test",
    "gain",
    "gain_ci95",
    "n_seeds",
    "beyond_noise",
    "width_gain",
    "gain_over_width",
    "gain_over_width_ci95",
    "beyond_width",
]


def combination_name(members: tuple[str, ...] | list[str]) -> str:
    return JOIN.join(members)


def combinations(names: list[str], pairs: bool = True) -> list[tuple[str, ...]]:
    """Every single name, every pair (pairs=True) and all of them (when more than 2)."""
    out: list[tuple[str, ...]] = [(n,) for n in names]
    if pairs:
        out += list(itertools.combinations(names, 2))
    if len(names) > 2 or (len(names) == 2 and not pairs):
        out.append(tuple(names))
    return out


def untrained_twins(encoders: dict[str, Encoder], control_seed: int = 0) -> dict[str, Encoder]:
    """`untrained:<name>` -> that encoder's architecture at a random init of its own seed
    (distinct per member and per control_seed, so a pair is two different untrained maps)."""
    from dabs_lib.initial import random_init_like

    return {
        UNTRAINED + name: random_init_like(encoder, 7919 * (control_seed + 1) + index)
        for index, (name, encoder) in enumerate(encoders.items())
    }


def control_of(combination: str) -> str:
    """The name of a combination's equal-width control."""
    return combination_name([UNTRAINED + m for m in combination.split(JOIN)])


def concat_features(sets: list[FeatureSet]) -> FeatureSet:
    """Features of several encoders on the same rows, side by side: (M, sum of D)."""
    first = sets[0]
    for other in sets[1:]:
        if not (np.array_equal(other.rows, first.rows) and np.array_equal(other.labels, first.labels)):
            raise ValueError(
                "combined encoders must be featurized on the same rows of the same split, "
                f"but got {len(first.rows)} and {len(other.rows)} rows that differ"
            )
    return FeatureSet(
        np.concatenate([np.asarray(s.features, dtype=np.float32) for s in sets], axis=1), first.labels, first.rows
    )


def probe_concatenated(
    splits: list, task: TransferTask, protocol: ProbeProtocol = DEFAULT_PROTOCOL
) -> tuple[float, float, int]:
    """(val score, test score, dim) of one linear probe on the concatenated SplitFeatures."""
    pool = concat_features([s.pool for s in splits])
    val = concat_features([s.val for s in splits])
    test = concat_features([s.test for s in splits])
    device = resolve_device(protocol.device)
    with cpu_threads_for(pool.features, device):
        fit = select_probe(pool, val, task.kind, task.metric, task.num_classes, protocol, device)
        score = score_probe(fit.probe, test, task.metric)
    return float(fit.val_score), float(score), int(pool.features.shape[1])


def combined_scores(
    encoders: dict[str, str | os.PathLike | Encoder],
    domain: Domain,
    protocol: ProbeProtocol = DEFAULT_PROTOCOL,
    pairs: bool = True,
    cache_dir: str | os.PathLike[str] | FeatureCache | _DefaultCacheDir | None = DEFAULT_CACHE_DIR,
    width_control: bool = True,
    control_seed: int = 0,
) -> pd.DataFrame:
    """One row per (combination, task): singles, pairs and all encoders (see the module doc).
    cache_dir: as evaluate_transfer's (a folder, DEFAULT_CACHE_DIR, None for memory, a FeatureCache).
    width_control: with 2+ encoders, also the same rows for their untrained twins (untrained_twins,
    seeded by control_seed; pass each --seeds seed its own)."""
    from analysis.risk import task_features
    from dabs_lib.transfer.evaluate import as_encoder

    if not encoders:
        raise ValueError(f"combining needs at least one encoder of domain {domain.name!r}, but got none")
    if protocol.kind != "linear":
        raise ValueError(
            f"combined encoders are probed linearly, so ProbeProtocol.kind must be 'linear', but got {protocol.kind!r}"
        )
    cache = resolve_cache(cache_dir)
    loaded = {name: as_encoder(path) for name, path in encoders.items()}
    groups = [list(loaded)]
    if width_control and len(loaded) >= 2:
        twins = untrained_twins(loaded, control_seed)
        loaded.update(twins)
        groups.append(list(twins))
    rows = []
    for task_name, task in domain.tasks.items():
        if task.kind == "per_token":
            continue  # per-token features of different encoders need not share rows
        splits = {name: task_features(encoder, task, protocol, cache) for name, encoder in loaded.items()}
        for members in (m for group in groups for m in combinations(group, pairs)):
            val, test, dim = probe_concatenated([splits[m] for m in members], task, protocol)
            rows.append(
                {
                    "domain": domain.name,
                    "combination": combination_name(members),
                    "members": len(members),
                    "task": task_name,
                    "val": val,
                    "test": test,
                    "dim": dim,
                }
            )
    return pd.DataFrame(rows, columns=COMBINED_COLUMNS)


def _gains(part: pd.DataFrame, combination: str, single: str) -> pd.Series:
    """combination - single, one value per seed (NaN seed: the trials' own runs, one value)."""

    def by_seed(name: str) -> pd.Series:
        rows = part[part["combination"] == name]
        return rows.assign(seed=rows["seed"].fillna(-1)).groupby("seed")["test"].mean()

    return (by_seed(combination) - by_seed(single)).dropna()


def _best_member(combination: str, means: pd.Series) -> str:
    return max(combination.split(JOIN), key=lambda m: means.get(m, -np.inf))


def combined_vs_single(long: pd.DataFrame) -> pd.DataFrame:
    """Per (domain, task, combination of 2+): its test score against its best single member,
    and that gain against its equal-width control's.

    long: combined_scores rows with a `seed` column (one value per seed; NaN: the trials' own
    runs). Scores are means with a 95% t-interval over seeds; `gain` is the seed-paired mean of
    combination - best single member (the member with the highest mean), every metric being
    higher-is-better (analysis.risk_core.error_of). `width_gain` is the same gain of the
    combination's untrained control; `gain_over_width` = gain - width_gain paired by seed, and
    `beyond_width` says its interval excludes 0 upwards: the trained encoders add more than width."""
    from analysis.tables import mean_ci

    rows = []
    for (domain, task), part in long.groupby(["domain", "task"], sort=False):
        means = part.groupby("combination", sort=False)["test"].mean()
        for combo, group in part[part["members"] >= 2].groupby("combination", sort=False):
            single = _best_member(combo, means)
            score, half, n = mean_ci(group["test"])
            gains = _gains(part, combo, single)
            gain, gain_half, _ = mean_ci(gains)
            control = control_of(combo)
            width = gain_over = over_half = np.nan
            if not combo.startswith(UNTRAINED) and control in means:
                width_gains = _gains(part, control, _best_member(control, means))
                width = float(width_gains.mean())
                gain_over, over_half, _ = mean_ci((gains - width_gains).dropna())
            rows.append(
                {
                    "domain": domain,
                    "task": task,
                    "combination": combo,
                    "test": score,
                    "test_ci95": half,
                    "best_single": single,
                    "best_single_test": float(means.get(single, np.nan)),
                    "gain": gain,
                    "gain_ci95": gain_half,
                    "n_seeds": n,
                    "beyond_noise": bool(np.isfinite(gain_half) and abs(gain) > gain_half),
                    "width_gain": width,
                    "gain_over_width": gain_over,
                    "gain_over_width_ci95": over_half,
                    "beyond_width": bool(np.isfinite(over_half) and gain_over > over_half),
                }
            )
    return pd.DataFrame(rows, columns=VERSUS_COLUMNS)


def width_sentences(versus: pd.DataFrame) -> list[str]:
    """Per (domain, task): the trained combination with the largest gain, set against its
    equal-width control (a combined_vs_single table)."""
    out = []
    trained = versus[~versus["combination"].str.startswith(UNTRAINED) & versus["width_gain"].notna()]
    for (domain, task), part in trained.groupby(["domain", "task"], sort=False):
        row = part.loc[part["gain"].idxmax()]
        over = f"{row['gain_over_width']:+.3f}"
        if np.isfinite(row["gain_over_width_ci95"]):
            over += f" ± {row['gain_over_width_ci95']:.3f} ({'beyond' if row['beyond_width'] else 'within'} seed noise)"
        else:
            over += " (one run each: no interval; --seeds gives one)"
        out.append(
            f"combined encoders on {domain}/{task}: {row['combination']} gains {row['gain']:+.3f} over its best "
            f"member ({row['best_single']}); the same architectures untrained gain {row['width_gain']:+.3f} "
            f"from width alone, so beyond width: {over}"
        )
    return out


def as_role_scores(long: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Combinations of 2+ as long transfer scores (analysis.tables.role_scores): role `best`
    under objective `<a>+<b>`, beside a copy of the domain's random-init rows, so the report's
    transfer table gets a row per combination with its gain over random init."""
    from analysis.tables import SCORE_KEYS

    columns = SCORE_KEYS + ["experiment", "trial", "seed", "test", "val"]
    parts = []
    for (domain, combo), group in long[long["members"] >= 2].groupby(["domain", "combination"], sort=False):
        rows = group.assign(objective=combo, role="best", experiment="combined", trial=combo)
        parts.append(rows[columns])
        baseline = scores[(scores["role"] == "baseline") & (scores["domain"] == domain)]
        baseline = baseline.drop_duplicates(["domain", "task", "experiment", "trial", "seed"])
        parts.append(baseline.assign(objective=combo)[columns])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
