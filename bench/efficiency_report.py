"""Tables, plot and goals of the efficiency bench, from its search records and fresh-seed scores."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.exports import markdown_table
from analysis.tables import mean_ci
from bench.efficiency_common import CHECKPOINTS, best_at
from bench.warm_search import GOAL_DOMAINS, GOAL_RATIO, steps_to_reach


def trial_table(searches: list[dict]) -> pd.DataFrame:
    rows = []
    for s in searches:
        for t in s["trials"]:
            rows.append(
                {k: s[k] for k in ("domain", "objective", "method", "seed", "budget_steps")}
                | {k: v for k, v in t.items() if k != "params"}
                | {"params": json.dumps(t["params"])}
            )
    return pd.DataFrame(rows)


def curve(search: dict, fractions=CHECKPOINTS) -> list[dict]:
    """Best-so-far (by validation) at each budget fraction: its val and its own-seed test."""
    out = []
    for f in fractions:
        best = best_at(search["trials"], f * search["budget_steps"])
        spent = [t for t in search["trials"] if t["end_steps"] <= f * search["budget_steps"] + 1e-9]
        out.append(
            {
                "fraction": f,
                "steps": f * search["budget_steps"],
                "seconds": max((t["end_seconds"] for t in spent), default=0.0),
                "val": best["val"] if best else math.nan,
                "own_test": best["test"] if best else math.nan,
                "trials": len(spent),
            }
        )
    return out


def reach_compute(searches: list[dict]) -> pd.DataFrame:
    """Per (domain, objective, seed, method): the share of random search's compute (steps, seconds)
    a method spends before its best validation score reaches random search's final best."""
    by = {(s["domain"], s["objective"], s["seed"], s["method"]): s for s in searches}
    rows = []
    for (domain, objective, seed, method), s in by.items():
        rand = by.get((domain, objective, seed, "random"))
        if rand is None or method == "default":
            continue
        target = max((t["val"] for t in rand["trials"] if t["state"] == "complete"), default=math.nan)
        total_steps, total_seconds = rand["trials"][-1]["end_steps"], rand["trials"][-1]["end_seconds"]
        hit = next((t for t in s["trials"] if t["state"] == "complete" and t["val"] >= target - 1e-12), None)
        rows.append(
            {
                "domain": domain,
                "objective": objective,
                "seed": seed,
                "method": method,
                "target_val": target,
                "steps_share": hit["end_steps"] / total_steps if hit else math.inf,
                "seconds_share": hit["end_seconds"] / total_seconds if hit else math.inf,
            }
        )
    return pd.DataFrame(rows)


def warm_reach(searches: list[dict], method: str = "tpe_asha_warm") -> pd.DataFrame:
    """Per (domain, objective, seed) with both: steps the warm-started TPE + ASHA search spends to reach
    the cold one's final best validation score, over the steps the cold one spent to reach it (issue 25's
    measure); a warm search that never reaches it gets ratio inf and its budget as `warm_steps`."""
    by = {(s["domain"], s["objective"], s["seed"], s["method"]): s for s in searches}
    rows = []
    for (domain, objective, seed, name), warm in sorted(by.items()):
        cold = by.get((domain, objective, seed, "tpe_asha"))
        if name != method or cold is None:
            continue
        target = max((float(t["val"]) for t in cold["trials"] if t["state"] == "complete"), default=math.nan)
        cold_steps, _ = steps_to_reach(cold, target)
        warm_steps, reached = steps_to_reach(warm, target)
        warm_best = max((float(t["val"]) for t in warm["trials"] if t["state"] == "complete"), default=math.nan)
        rows.append(
            {
                "domain": domain,
                "objective": objective,
                "seed": seed,
                "cold_best_val": target,
                "cold_steps": cold_steps,
                "warm_steps": warm_steps,
                "warm_best_val": warm_best,
                "ratio": warm_steps / max(cold_steps, 1) if reached else math.inf,
            }
        )
    return pd.DataFrame(rows)


def warm_goal(warm: pd.DataFrame) -> dict:
    """Per domain the median warm / cold ratio over search seeds; the goal is met on a domain at <= 1/3."""
    if warm.empty:
        return {"domains": {}, "met": 0, "measured": 0}
    medians = {d: float(g["ratio"].median()) for d, g in warm.groupby("domain")}
    met = sum(m <= GOAL_RATIO for m in medians.values())
    return {"domains": medians, "met": met, "measured": len(medians), "goal_domains": GOAL_DOMAINS}


def summary_table(searches: list[dict], fresh: pd.DataFrame) -> pd.DataFrame:
    """Per (domain, objective, method, budget fraction): validation best (mean over search seeds),
    compute, fresh-seed test score of the chosen configs and its gain over the default (95% t)."""
    curves = pd.DataFrame(
        [{**{k: s[k] for k in ("domain", "objective", "method", "seed")}, **c} for s in searches for c in curve(s)]
    )
    rows = []
    for (domain, objective, method, fraction), g in curves.groupby(["domain", "objective", "method", "fraction"]):
        if method == "default" and fraction < 1.0:
            continue
        default = fresh[(fresh.role == "default") & (fresh.domain == domain) & (fresh.objective == objective)]
        chosen = fresh[
            (fresh.role == "best")
            & (fresh.domain == domain)
            & (fresh.objective == objective)
            & (fresh.method == method)
            & np.isclose(fresh.budget, fraction)
        ]
        if method == "default":
            chosen = default
        test, test_ci, n = mean_ci(chosen["test"])
        paired = chosen.merge(
            default[["fresh_seed", "test"]].rename(columns={"test": "default_test"}), on="fresh_seed"
        )  # same fresh seed: paired differences
        gain, gain_ci, _ = mean_ci(paired["test"] - paired["default_test"]) if method != "default" else (0.0, 0.0, n)
        rows.append(
            {
                "domain": domain,
                "objective": objective,
                "method": method,
                "budget": fraction,
                "steps": g["steps"].mean(),
                "seconds": g["seconds"].mean(),
                "trials": g["trials"].mean(),
                "val_best": g["val"].mean(),
                "val_sd": g["val"].std(ddof=0),
                "test_fresh": test,
                "test_ci95": test_ci,
                "gain_vs_default": gain,
                "gain_ci95": gain_ci,
                "n_scores": n,
                "search_seeds": g["seed"].nunique(),
            }
        )
    return pd.DataFrame(rows)


def random_init_levels(fresh: pd.DataFrame) -> dict[str, float]:
    rows = fresh[fresh.role == "random_init"]
    return {d: float(g["test"].mean()) for d, g in rows.groupby("domain")}


def goals(summary: pd.DataFrame, reach: pd.DataFrame) -> dict:
    """The issue's goals as measured: median compute share of TPE+ASHA, domains won with 95%."""
    asha = reach[reach.method == "tpe_asha"] if "method" in reach else reach  # no random search: nothing to reach
    final = summary[(summary.budget == 1.0) & (summary.method == "tpe_asha")]
    wins = {}
    for domain, g in final.groupby("domain"):
        top = g.sort_values("val_best", ascending=False).iloc[0]  # the objective chosen on validation
        low = top["gain_vs_default"] - top["gain_ci95"]
        wins[domain] = {
            "objective": top["objective"],
            "gain": top["gain_vs_default"],
            "ci95": top["gain_ci95"],
            "beats_default": bool(low > 0),
        }
    return {
        "tpe_asha_median_steps_share": float(asha["steps_share"].median()) if len(asha) else math.nan,
        "tpe_asha_median_seconds_share": float(asha["seconds_share"].median()) if len(asha) else math.nan,
        "tpe_asha_reached_share": float(np.isfinite(asha["steps_share"]).mean()) if len(asha) else math.nan,
        "domains": wins,
        "domains_beating_default": sum(w["beats_default"] for w in wins.values()),
    }


def plot(searches: list[dict], fresh: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = sorted({(s["domain"], s["objective"]) for s in searches})
    cols = min(4, len(pairs))
    rows_n = math.ceil(len(pairs) / cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(4 * cols, 3.2 * rows_n), squeeze=False)
    levels = random_init_levels(fresh)
    for ax, (domain, objective) in zip(axes.ravel(), pairs):
        for method in sorted({s["method"] for s in searches} - {"default"}):
            runs = [
                curve(s) for s in searches if (s["domain"], s["objective"], s["method"]) == (domain, objective, method)
            ]
            x = [c["steps"] for c in runs[0]]
            y = np.array([[c["own_test"] for c in r] for r in runs])
            (line,) = ax.plot(x, np.nanmean(y, 0), label=method)
            ax.fill_between(x, np.nanmin(y, 0), np.nanmax(y, 0), alpha=0.2, color=line.get_color())
        default = fresh[(fresh.role == "default") & (fresh.domain == domain) & (fresh.objective == objective)]
        ax.axhline(default["test"].mean(), color="k", lw=1, label="DABS default (fresh seeds)")
        if domain in levels:
            ax.axhline(levels[domain], color="grey", ls="--", lw=1, label="random init (fresh seeds)")
        ax.set_title(f"{domain} / {objective}", fontsize=9)
        ax.set_xlabel("optimizer steps spent")
        ax.set_ylabel("test score of best-by-val")
    for ax in axes.ravel()[len(pairs) :]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=6)
    fig.suptitle("best trial's test score (search seed; band = min-max over search seeds) vs compute", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def warm_markdown(warm: pd.DataFrame, result: dict) -> str:
    if warm.empty:
        return ""
    rows = warm.assign(
        ratio=[f"{r:.2f}" if math.isfinite(r) else "never" for r in warm["ratio"]],
    )
    medians = ", ".join(f"{d} {m:.2f}" if math.isfinite(m) else f"{d} never" for d, m in result["domains"].items())
    return (
        "### Warm start: steps to the cold TPE + ASHA search's final best (warm / cold)\n\n"
        f"{markdown_table(rows)}\n\nMedian over search seeds: {medians}. Goal (at most {GOAL_RATIO:.2f} on "
        f">= {GOAL_DOMAINS} of 6 domains): met on {result['met']} of {result['measured']} measured domains.\n"
    )


def _win_line(domain: str, w: dict) -> str:
    if not math.isfinite(float(w["gain"])):  # --fresh-seeds 0: the chosen configs were not re-run
        return f"- {domain}: {w['objective']}: not measured (no fresh-seed re-runs of the chosen configurations)"
    verdict = "beats" if w["beats_default"] else "does not beat"
    return f"- {domain}: {w['objective']} gain {w['gain']:+.3f} +- {w['ci95']:.3f} ({verdict} the default)"


def markdown(summary: pd.DataFrame, reach: pd.DataFrame, result: dict, run: dict) -> str:
    final = summary[summary.budget == 1.0].copy()
    cols = [
        "domain",
        "objective",
        "method",
        "steps",
        "seconds",
        "trials",
        "val_best",
        "test_fresh",
        "test_ci95",
        "gain_vs_default",
        "gain_ci95",
        "n_scores",
    ]
    table = markdown_table(final[cols])
    share = "(no random search in this run: nothing to reach)"
    if "method" in reach:
        share = markdown_table(reach.groupby("method")[["steps_share", "seconds_share"]].median().reset_index())
    wins = "\n".join(_win_line(d, w) for d, w in result["domains"].items())
    return (
        f"Run: `{run['command']}`\n\n```\n{json.dumps(run, indent=1)}\n```\n\n"
        f"### Final budget (n_scores = search seeds x fresh seeds behind test_fresh)\n\n{table}\n\n"
        f"### Compute to reach random search's final best (median share of random's compute)\n\n{share}\n\n"
        f"### Goals\n\n- TPE + ASHA median share of random's steps: {result['tpe_asha_median_steps_share']:.2f}"
        f" (goal <= 0.33); seconds: {result['tpe_asha_median_seconds_share']:.2f}; reached in"
        f" {result['tpe_asha_reached_share']:.0%} of searches\n- domains where TPE + ASHA's best beats the"
        f" default (95% interval > 0): {result['domains_beating_default']} of"
        f" {sum(math.isfinite(float(w['gain'])) for w in result['domains'].values())}"
        f" measured (goal >= 4 of 6)\n{wins}\n"
    )


def write_outputs(searches: list[dict], fresh: pd.DataFrame, run: dict, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    summary, reach, warm = summary_table(searches, fresh), reach_compute(searches), warm_reach(searches)
    result = goals(summary, reach) | {"warm_start": warm_goal(warm)}
    paths = [
        out / "trials.csv",
        out / "summary.csv",
        out / "reach.csv",
        out / "efficiency.md",
        out / "efficiency.png",
        out / "goals.json",
    ]
    trial_table(searches).to_csv(paths[0], index=False)
    summary.to_csv(paths[1], index=False)
    reach.to_csv(paths[2], index=False)
    paths[3].write_text(markdown(summary, reach, result, run) + warm_markdown(warm, result["warm_start"]))
    plot(searches, fresh, paths[4])
    paths[5].write_text(json.dumps({"run": run, "goals": result}, indent=1, default=float))
    return paths
