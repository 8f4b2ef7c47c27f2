"""The model card (README.md) of an exported encoder: what it is, how it scored, how to use it."""

from __future__ import annotations

from typing import Any

from analysis.exports import markdown_table


def _number(value: Any, ci: Any = None) -> str:
    if value is None:
        return ""
    text = f"{float(value):.4f}"
    return text + (f" ± {float(ci):.4f}" if ci is not None else "")


def scores_table(scores: list[dict[str, Any]]) -> str:
    import pandas as pd

    rows = [
        {
            "task": s["task"],
            "this model": _number(s.get("score"), s.get("ci95")),
            "DABS default": _number(s.get("default"), s.get("default_ci95")),
            "random init": _number(s.get("baseline"), s.get("baseline_ci95")),
            "seeds": s.get("n_seeds") or 1,
        }
        for s in scores
    ]
    return markdown_table(pd.DataFrame(rows)) if rows else "(no test scores were reported)\n"


def _inputs(facts: dict[str, Any]) -> list[str]:
    lines = []
    for entry in facts["inputs"]:
        seen = entry.get("observed")
        span = (
            (
                f"; training data spanned [{seen['min']:.4g}, {seen['max']:.4g}], mean {seen['mean']:.4g}, "
                f"std {seen['std']:.4g}"
            )
            if seen
            else ""
        )
        lines.append(
            f"- input {entry['index']} (`{entry['kind']}`): {entry['dtype']} of shape "
            f"({', '.join(map(str, entry['shape']))}) per example; {entry['preprocessing']}{span}"
        )
    return lines


def card_text(facts: dict[str, Any], encoder: Any) -> str:
    """Markdown from the exporter's facts (the same dict config.json holds)."""
    prov, budget = facts["provenance"], facts["budget"]
    params = sum(p.numel() for p in encoder.parameters())
    seeded = any((s.get("n_seeds") or 1) > 1 for s in facts["scores"])
    hyper = "\n".join(f"- `{k}`: {v}" for k, v in facts["hyperparameters"].items()) or "- (none searched)"
    trials = budget.get("trials", {})
    lines = [
        f"# {facts['name']}: a `{facts['objective']}` encoder for the `{facts['domain']}` domain",
        "",
        (
            f"A transformer encoder ({params:,} parameters, width {encoder.config.embed_dim}, depth "
            f"{encoder.config.depth}) pretrained with the `{facts['objective']}` self-supervised objective by a "
            f"dabs-tune search. It maps inputs of the `{facts['domain']}` domain to "
            f"{encoder.config.embed_dim}-dimensional pooled features ({encoder.config.pooling} pooling)."
        ),
        "",
        "## Transfer scores",
        "",
        "Test scores of a linear probe on the frozen encoder, per task, beside the untuned DABS default and "
        "the random-init encoder. "
        + (
            "Mean ± 95% t-interval over fresh seeds (`analyze --seeds`)."
            if seeded
            else "One seed (the trial's own); run `analyze --seeds K` and export again for intervals."
        ),
        "",
        scores_table(facts["scores"]),
        f"Scores from: {facts['scores_from']}.",
        "",
        "## Searched hyperparameters",
        "",
        hyper,
        "",
        "## Search budget and provenance",
        "",
        f"- chosen among {trials.get('trials', '?')} trials of study `{facts['domain']}-{facts['objective']}` "
        f"({trials.get('completed', '?')} completed, {trials.get('pruned', '?')} pruned) by validation score "
        f"(`{prov['selection']}`)"
        + ("" if prov["best_of_study"] else "; picked by hand with --trial, not necessarily the best"),
        f"- search: sampler {budget.get('sampler', '?')}, scheduler {budget.get('scheduler', '?')}, "
        f"{budget.get('num_samples', '?')} trials per study" + (", smoke test" if budget.get("smoke_test") else ""),
        (
            f"- experiment `{prov['experiment']}`, trial `{prov['trial']}`, dabs-tune {facts['dabs_tune_version']}, "
            f"commit {prov['commit']}, exported {prov['exported']}"
        ),
        "",
        "## Inputs",
        "",
        *_inputs(facts),
        "",
        "## Use",
        "",
        "```python",
        "from dabs_lib import load_encoder",
        f'encoder, featurize = load_encoder("{facts["name"]}")  # or the path of this folder',
        "features = featurize(inputs)  # (N, ...) per input, as above -> (N, D) float32",
        "```",
        "",
        f"or `dabs-tune featurize {facts['name']} --domain {facts['domain']} --out features.parquet`.",
        "",
        "## Intended use and limits",
        "",
        (
            f"- Intended: features for data of the `{facts['domain']}` domain (its input shapes and preprocessing), "
            "for linear probes, retrieval or as a starting point for fine-tuning."
        ),
        (
            "- The scores hold for this domain's tasks and splits only; other data, other preprocessing or other "
            "input sizes are outside what was measured."
        ),
        (
            "- Chosen by validation score among the trials of one search: the test scores of the best trial are "
            "optimistic for one seed; the seeded intervals (when shown) are the estimate to quote."
        ),
        "- Smoke-test searches train tiny models for a few steps: such a model checks the pipeline, it is not "
        "a useful encoder."
        if budget.get("smoke_test")
        else "- No claim beyond the tasks listed above.",
        "",
    ]
    return "\n".join(lines)
