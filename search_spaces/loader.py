"""YAML files -> one validated SearchSpace for an (objective, domain) pair.

Merge order, later wins: defaults.yaml < <objective>.yaml < domains/<domain>.yaml <
extra files (add-ons such as model_size.yaml, or the user's own) < overrides. A later
layer may move a key from `fixed:` to `search:` and back; a searched entry without
`default:` inherits the value an earlier layer gave the key, else dabs_lib's default.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from dabs_lib.settings_rules import SettingError, check_range, check_value
from search_spaces.names import PROBE_PATH_KEYS, RESERVED_KEYS, dabs_default, known_names, suggest
from search_spaces.params import (
    ParamSpec,
    SearchSpace,
    SearchSpaceError,
    is_scalar,
    type_name,
    check_default,
    check_value_type,
    coerce_scalar,
    fail,
    parse_entry,
)

ROOT = Path(__file__).resolve().parent
TOP_KEYS = ("doc", "fixed", "search")


@dataclass(frozen=True)
class Layer:
    source: str  # file as shown in messages, or "overrides"
    fixed: dict  # name -> constant
    search: dict  # name -> ParamSpec (default may still be None)


def shown(path: Path) -> str:
    """Shipped files read as 'search_spaces/emix.yaml'; user files as given."""
    try:
        return str(Path("search_spaces") / path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _safe_load(text: str) -> Any:
    """yaml.safe_load, through libyaml's CSafeLoader when PyYAML has it (the same safe constructor,
    a fifth of the time: a search reads every study's layers, and resume reads them again). A
    document libyaml refuses is parsed again by the pure-Python loader, whose message names the
    offending character."""
    if hasattr(yaml, "CSafeLoader"):
        try:
            return yaml.load(text, Loader=yaml.CSafeLoader)  # guard-ok: CSafeLoader is SafeLoader in C
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def read_yaml(path: Path, source: str) -> dict:
    """yaml.safe_load of a file as a mapping; every failure names the file (and line)."""
    try:
        text = path.read_text()
    except OSError as error:
        raise SearchSpaceError(f"the file must be readable, but got {error.strerror} in {source}") from None
    try:
        data = _safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        message = f"the file must be valid YAML, but got a parse error{at} ({problem}) in {source}"
        raise SearchSpaceError(message) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise fail("the file must hold a mapping with `fixed:` and/or `search:`", type_name(data), source)
    for key in data:
        if key not in TOP_KEYS:
            raise fail(f"top-level keys must be among {list(TOP_KEYS)}", repr(key), source)
    return data


def _check_name(name: Any, known: dict, objective: str, where: str) -> None:
    if name in RESERVED_KEYS:
        raise fail("`objective` and `domain` must come from load_space's arguments, not a file", repr(name), where)
    if name not in known:
        raise SearchSpaceError(
            f"parameter names must be fields of PretrainConfig, ModelConfig, the {objective!r} "
            f"objective's Config or TRIAL_KEYS, but got {name!r} in {where}"
            f"{suggest(str(name), [k for k in known if k not in RESERVED_KEYS])}"
        )


def _block(data: dict, key: str, source: str) -> dict:
    block = data.get(key)
    if block is None:
        return {}
    if not isinstance(block, dict):
        what = "value" if key == "fixed" else "entry"
        raise fail(f"`{key}:` must be a mapping of name -> {what}", type_name(block), source)
    return block


def parse_layer(
    fixed: dict, search: dict, source: str, objective: str, prefix: tuple[str, str] = ("fixed.", "search.")
) -> Layer:
    """Check every name, fixed value and search entry of one file (or the overrides)."""
    known = known_names(objective)
    out_fixed, out_search = {}, {}
    for name, value in fixed.items():
        where = f"{source}: {prefix[0]}{name}"
        _check_name(name, known, objective, where)
        value = coerce_scalar(value)
        if not is_scalar(value):
            raise fail("a fixed value must be a number, string or bool", type_name(value), where)
        check_value_type(f"`{name}`", value, known[name], where)
        _obey(check_value, name, value, where=where)
        out_fixed[name] = value
    for name, raw in search.items():
        where = f"{source}: {prefix[1]}{name}"
        _check_name(name, known, objective, where)
        if name in out_fixed:
            raise fail("a key must not be both fixed and searched in one layer", repr(name), where)
        if name in PROBE_PATH_KEYS:
            raise fail(
                "the probe's L2 path is chosen on validation in every evaluation and must not be "
                "searched (fix it under `fixed:` or with --set)",
                repr(name),
                where,
            )
        spec = parse_entry(name, raw, where, known[name])
        _obey(check_range, name, spec.low, spec.high, spec.choices, where=where)
        out_search[name] = spec
    return Layer(source, out_fixed, out_search)


def _obey(check: Callable[..., None], *args: Any, where: str) -> None:
    """A dabs_lib.settings_rules check, its SettingError raised as this package's SearchSpaceError."""
    try:
        check(*args, where=where)
    except SettingError as error:
        raise SearchSpaceError(str(error)) from None


def read_layer(path: Path, objective: str, source: str | None = None) -> Layer:
    source = source or shown(path)
    data = read_yaml(path, source)
    return parse_layer(_block(data, "fixed", source), _block(data, "search", source), source, objective)


def overrides_layer(overrides: dict, objective: str) -> Layer:
    """CLI-style overrides: name -> value fixes the key; name -> entry mapping searches it."""
    fixed = {k: v for k, v in overrides.items() if not isinstance(v, dict)}
    search = {k: v for k, v in overrides.items() if isinstance(v, dict)}
    return parse_layer(fixed, search, "overrides", objective, prefix=("", ""))


def _inherit_default(spec: ParamSpec, fixed: dict, search: dict, origin: dict, objective: str, where: str) -> ParamSpec:
    name = spec.name
    if name in fixed or name in search:
        value = fixed[name] if name in fixed else search[name].default
        how = f"inherited from {origin[name]}; set `default:` here to change it"
    else:
        value, how = dabs_default(objective, name), "dabs_lib's default"
        if value is MISSING:
            raise fail("`default` must be given when no earlier layer sets the key", "none", where)
    return check_default(spec, value, where, how)


def merge(layers: Iterable[Layer], objective: str, domain: str) -> SearchSpace:
    fixed: dict[str, Any] = {"objective": objective, "domain": domain}
    search: dict[str, ParamSpec] = {}
    origin: dict[str, str] = {}
    sources = []
    for layer in layers:
        sources.append(layer.source)
        for name, value in layer.fixed.items():
            search.pop(name, None)
            fixed[name], origin[name] = value, layer.source
        for name, spec in layer.search.items():
            if spec.default is None:
                where = f"{layer.source}: search.{name}" if layer.source != "overrides" else f"overrides: {name}"
                spec = _inherit_default(spec, fixed, search, origin, objective, where)
            fixed.pop(name, None)
            search[name], origin[name] = spec, layer.source
    return SearchSpace(objective, domain, fixed, search, tuple(sources))
