"""Typed search-space entries and the rules one YAML entry must satisfy.

Every error reads "<what must hold>, but got <value> in <file>: <block>.<key>", as
Optuna's own distribution errors do, so a user can fix the file without a traceback.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field, replace
from typing import Any

# type -> (value kind, whether the scale is logarithmic); Optuna/Tune semantics, bounds inclusive.
PARAM_TYPES = {
    "loguniform": ("float", True),
    "uniform": ("float", False),
    "quniform": ("float", False),  # uniform on the grid low, low + step, ..., high (step required)
    "int": ("int", False),
    "logint": ("int", True),
    "choice": ("choice", False),
}
ENTRY_KEYS = ("type", "low", "high", "step", "choices", "doc", "default")

# PyYAML (YAML 1.1) reads `1e-4` as a string; a search space is full of such numbers.
_SCIENTIFIC = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")


class SearchSpaceError(ValueError):
    """A search space file, override or argument breaks a rule; the message says where."""


@dataclass(frozen=True)
class ParamSpec:
    name: str  # flat config name, e.g. "lr"
    type: str  # key of PARAM_TYPES
    low: float | int | None = None  # inclusive lower bound (numeric types)
    high: float | int | None = None  # inclusive upper bound (numeric types)
    step: float | int | None = None  # grid spacing; low and high are multiples of it
    choices: tuple | None = None  # the categories of a "choice" entry
    doc: str = ""  # one line: what the knob does
    default: Any = None  # the untuned (DABS) value; points_to_evaluate starts here

    def contains(self, value: Any) -> bool:
        """Whether `value` is a point this entry can produce (type, range and grid)."""
        if self.type == "choice":
            return any(_same(value, c) for c in self.choices)
        kind, _ = PARAM_TYPES[self.type]
        if not _is_number(value) or (kind == "int" and not isinstance(value, numbers.Integral)):
            return False
        return self.low <= value <= self.high and (self.step is None or _on_grid(value, self.step))


@dataclass(frozen=True)
class SearchSpace:
    objective: str  # key of OBJECTIVES
    domain: str  # key of DOMAINS (or a domain override file's name)
    fixed: dict = field(default_factory=dict)  # name -> constant, including objective and domain
    search: dict = field(default_factory=dict)  # name -> ParamSpec, in file order
    sources: tuple = ()  # the files and overrides merged, first to last


def fail(rule: str, got: str, where: str) -> SearchSpaceError:
    return SearchSpaceError(f"{rule}, but got {got} in {where}")


def coerce_scalar(value: Any) -> Any:
    if isinstance(value, str) and _SCIENTIFIC.match(value.strip()):
        return float(value)
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)  # numpy scalars too


def is_scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool))


def _same(a: Any, b: Any) -> bool:
    """Equality that keeps True apart from 1 (YAML booleans among numeric choices)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b and (_is_number(a) == _is_number(b))


def _on_grid(value: float, step: float) -> bool:
    return math.isclose(value / step, round(value / step), rel_tol=0, abs_tol=1e-9)


def type_name(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def check_value_type(what: str, value: Any, want: type | None, where: str) -> None:
    """A constant (fixed value or choice) must have the config field's type."""
    ok = want is None or (
        (want is float and _is_number(value))
        or (want is int and isinstance(value, int) and not isinstance(value, bool))
        or (want in (str, bool) and type(value) is want)
    )
    if not ok:
        raise fail(f"{what} must be of type {want.__name__}", type_name(value), where)


def parse_entry(name: str, raw: Any, where: str, want: type | None) -> ParamSpec:
    """One `search:` entry -> ParamSpec (its default, if any, checked too)."""
    if not isinstance(raw, dict):
        rule = "a search entry must be a mapping with `type`, bounds or `choices`, and `doc`"
        raise fail(rule, type_name(raw), where)
    raw = {key: coerce_scalar(value) for key, value in raw.items()}
    for key in raw:
        if key not in ENTRY_KEYS:
            raise fail(f"entry keys must be among {list(ENTRY_KEYS)}", repr(key), where)
    kind = raw.get("type")
    if kind not in PARAM_TYPES:
        raise fail(f"`type` must be one of {sorted(PARAM_TYPES)}", repr(kind), where)
    doc = raw.get("doc")
    if not isinstance(doc, str) or not doc.strip() or "\n" in doc.strip():
        raise fail("`doc` must be a non-empty one-line string", repr(doc), where)
    if kind == "choice":
        spec = _parse_choice(name, raw, where, want)
    else:
        spec = _parse_numeric(name, raw, where, want)
    spec = replace(spec, doc=doc.strip())
    return check_default(spec, raw["default"], where) if "default" in raw else spec


def _parse_choice(name: str, raw: dict, where: str, want: type | None) -> ParamSpec:
    for key in ("low", "high", "step"):
        if key in raw:
            rule = f"`{key}` must be absent for type 'choice' (list the values in `choices`)"
            raise fail(rule, f"{key}={raw[key]!r}", where)
    choices = raw.get("choices")
    if not isinstance(choices, list) or not choices:
        raise fail("`choices` must be a non-empty list", repr(choices), where)
    for value in choices:
        if not is_scalar(value):
            raise fail("every choice must be a number, string or bool", type_name(value), where)
        check_value_type("every choice", value, want, where)
    return ParamSpec(name, "choice", choices=tuple(choices))


def _parse_numeric(name: str, raw: dict, where: str, want: type | None) -> ParamSpec:
    kind, log = PARAM_TYPES[raw["type"]]
    type_ = raw["type"]
    if "choices" in raw:
        raise fail(f"`choices` must be absent for type {type_!r} (use type 'choice')", repr(raw["choices"]), where)
    if want in (str, bool) or (want is int and kind == "float"):
        allowed = "'choice'" if want in (str, bool) else "'int', 'logint' or 'choice'"
        raise fail(f"`type` must be {allowed} because `{name}` takes {want.__name__} values", repr(type_), where)
    for key in ("low", "high"):
        if key not in raw:
            raise fail(f"`{key}` must be given for type {type_!r}", f"keys {sorted(raw)}", where)
    for key in ("low", "high", "step"):
        value = raw.get(key)
        if key == "step" and value is None:
            continue
        if kind == "int" and (not isinstance(value, int) or isinstance(value, bool)):
            raise fail(f"`{key}` must be an int for type {type_!r}", type_name(value), where)
        if not _is_number(value) or not math.isfinite(value):
            raise fail(f"`{key}` must be a finite number", type_name(value), where)
    low, high, step = raw["low"], raw["high"], raw.get("step")
    if not low <= high:
        raise fail("`low <= high` must hold", f"low={low!r}, high={high!r}", where)
    if log and not low > 0:
        raise fail(f"`low > 0` must hold for type {type_!r}", f"low={low!r}", where)
    _check_step(type_, log, low, high, step, where)
    return ParamSpec(name, type_, low=low, high=high, step=step)


def _check_step(type_: str, log: bool, low: float, high: float, step: float | None, where: str) -> None:
    if step is None:
        if type_ == "quniform":
            raise fail("`step` must be given for type 'quniform'", "no `step`", where)
        return
    if log:
        rule = f"`step` must be absent for type {type_!r} (Optuna cannot step a log scale)"
        raise fail(rule, f"step={step!r}", where)
    if not step > 0:
        raise fail("`step > 0` must hold", f"step={step!r}", where)
    if not (_on_grid(low, step) and _on_grid(high, step)):
        raise fail("`low` and `high` must be multiples of `step`", f"low={low!r}, high={high!r}, step={step!r}", where)


def check_default(spec: ParamSpec, value: Any, where: str, origin: str = "") -> ParamSpec:
    """spec with `default=value`, after checking the value is a point of the entry."""
    value = coerce_scalar(value)
    shown = f"default={value!r}" + (f" ({origin})" if origin else "")
    if spec.type == "choice":
        if not spec.contains(value):
            raise fail("`default` must be one of `choices`", f"{shown}, choices={list(spec.choices)}", where)
        return replace(spec, default=value)
    kind, _ = PARAM_TYPES[spec.type]
    if kind == "int" and (not isinstance(value, int) or isinstance(value, bool)):
        raise fail(f"`default` must be an int for type {spec.type!r}", f"{shown} ({type(value).__name__})", where)
    if not _is_number(value):
        raise fail("`default` must be a number", f"{shown} ({type(value).__name__})", where)
    if not spec.low <= value <= spec.high:
        raise fail("`low <= default <= high` must hold", f"{shown}, low={spec.low!r}, high={spec.high!r}", where)
    if spec.step is not None and not _on_grid(value, spec.step):
        raise fail("`default` must be a multiple of `step`", f"{shown}, step={spec.step!r}", where)
    return replace(spec, default=value)
