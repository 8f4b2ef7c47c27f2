"""A SearchSpace as Tune sees it, as its untuned starting point, and as a readable table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from search_spaces.params import ParamSpec, SearchSpace

if TYPE_CHECKING:
    from ray.tune.search.sample import Domain


def to_domain(spec: ParamSpec) -> Domain:
    """One entry -> a ray.tune sampler with the same inclusive bounds Optuna will use.

    Tune's randint/lograndint exclude `upper`; OptunaSearch subtracts 1 again when it
    converts them, so both samplers see [low, high].
    """
    from ray import tune

    if spec.type == "choice":
        return tune.choice(list(spec.choices))
    if spec.type == "loguniform":
        return tune.loguniform(spec.low, spec.high)
    if spec.type in ("uniform", "quniform"):
        if spec.step is None:
            return tune.uniform(spec.low, spec.high)
        return tune.quniform(spec.low, spec.high, spec.step)
    if spec.type == "int":
        if spec.step is None:
            return tune.randint(spec.low, spec.high + 1)
        return tune.qrandint(spec.low, spec.high, spec.step)
    if spec.type == "logint":
        return tune.lograndint(spec.low, spec.high + 1)
    raise AssertionError(f"parse_entry let through type {spec.type!r}")


def to_tune(space: SearchSpace) -> dict[str, Any]:
    """Tune param_space: fixed names as constants, searched names as samplers.

    Pass it as `Tuner(param_space=...)` with `OptunaSearch(space=None)`, which converts it.
    """
    param_space: dict[str, Any] = dict(space.fixed)
    param_space.update({name: to_domain(spec) for name, spec in space.search.items()})
    return param_space


def default_point(space: SearchSpace) -> dict[str, Any]:
    """Every searched name at its default: the untuned (DABS) configuration, for
    `points_to_evaluate` (which must name exactly the searched keys)."""
    return {name: spec.default for name, spec in space.search.items()}


def default_config(space: SearchSpace) -> dict[str, Any]:
    """The whole untuned configuration (fixed values plus defaults): what a baseline
    (none, supervised) runs instead of a search."""
    return {**space.fixed, **default_point(space)}


def extremes(space: SearchSpace) -> dict[str, list]:
    """Every searched name -> its choices, or its two bounds: where a relation between settings
    (dabs_lib.settings_rules.RELATIONS) can first break."""
    return {
        name: list(spec.choices) if spec.type == "choice" else [spec.low, spec.high]
        for name, spec in space.search.items()
    }


def _range(spec: ParamSpec) -> str:
    if spec.type == "choice":
        return "{" + ", ".join(_fmt(c) for c in spec.choices) + "}"
    step = f" step {_fmt(spec.step)}" if spec.step is not None else ""
    return f"[{_fmt(spec.low)}, {_fmt(spec.high)}]{step}"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:g}"
        return text if any(c in text for c in ".ein") else text + ".0"  # 1.0, not 1
    return str(value).lower() if isinstance(value, bool) else str(value)


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1] for row in rows]


def describe(space: SearchSpace) -> str:
    """A table for `run_search.py list spaces`: searched entries, then fixed values."""
    lines = [f"search space  objective={space.objective}  domain={space.domain}"]
    lines.append("merged from   " + " < ".join(space.sources))
    lines.append(f"searched ({len(space.search)}):")
    if space.search:
        rows = [("name", "type", "range", "default", "doc")]
        rows += [(n, s.type, _range(s), _fmt(s.default), s.doc) for n, s in space.search.items()]
        lines += _table(rows)
    lines.append(f"fixed ({len(space.fixed)}):")
    lines += _table([("name", "value")] + [(n, _fmt(v)) for n, v in space.fixed.items()])
    return "\n".join(lines)
