"""Which space files exist, and `load_space`, which picks and merges them for one pair."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from dabs_lib.config import absolute_paths
from dabs_lib.registry import lookup
from search_spaces.loader import ROOT, Layer, merge, overrides_layer, read_layer, read_yaml, shown
from search_spaces.params import SearchSpace, SearchSpaceError

T = TypeVar("T")

DEFAULTS_FILE = ROOT / "defaults.yaml"
DOMAINS_DIR = ROOT / "domains"


def _objectives() -> dict:
    from dabs_lib.objective_configs import OBJECTIVE_CONFIGS  # the names, without torch

    return OBJECTIVE_CONFIGS


def domain_names() -> list[str]:
    """The built-in domains (dabs_lib.domains.DOMAINS' keys, known without importing torch), plus
    every domain override file, plus the user domains (domain files) this process registered."""
    from dabs_lib.domain_names import builtin_domain_names
    from dabs_lib.userdomain import USER_DOMAIN_FILES

    builtin = set(builtin_domain_names())
    return sorted(builtin | {p.stem for p in DOMAINS_DIR.glob("*.yaml")} | set(USER_DOMAIN_FILES))


def addon_files() -> dict[str, Path]:
    """Shipped opt-in files (model_size, probe, ...): every top-level YAML that is not an
    objective's and not defaults.yaml."""
    objectives = set(_objectives())
    return {p.stem: p for p in sorted(ROOT.glob("*.yaml")) if p.stem not in objectives and p != DEFAULTS_FILE}


def resolve_extra(item: str) -> Path:
    """A path to an existing file, or the name of a shipped add-on ("model_size")."""
    path = Path(item)
    if path.is_file():
        return path
    addons = addon_files()
    if item in addons:
        return addons[item]
    raise SearchSpaceError(
        f"extra search space files must be an existing path or one of {sorted(addons)}, but got {item!r} (no such file)"
    )


def absolute_extra(item: str) -> str:
    """An extra space given as a path, made absolute (a resumed search may start elsewhere);
    an add-on name unchanged."""
    path = Path(item).expanduser()
    return str(path.resolve()) if path.is_file() else item


def _lookup(registry: Mapping[str, T], name: str, what: str) -> T:
    try:
        return lookup(registry, name, what)
    except KeyError as error:
        raise SearchSpaceError(error.args[0]) from None


def load_space(
    objective: str, domain: str, extra_files: Sequence[str] = (), overrides: dict | None = None
) -> SearchSpace:
    """defaults.yaml < <objective>.yaml < domains/<domain>.yaml < extra_files < overrides.

    `overrides` maps a name to a constant (fixes it) or to an entry mapping (searches it).
    Path keys (dabs_lib.config.PATH_KEYS, e.g. data_root) come back absolute. Raises
    SearchSpaceError naming file, key, rule and value.
    """
    _lookup(_objectives(), objective, "objective")
    _lookup(dict.fromkeys(domain_names()), domain, "domain")
    objective_file = ROOT / f"{objective}.yaml"
    if not objective_file.is_file():
        raise SearchSpaceError(f"every objective must have a space file, but got no {shown(objective_file)}")
    paths = [DEFAULTS_FILE, objective_file]
    domain_file = DOMAINS_DIR / f"{domain}.yaml"
    if domain_file.is_file():
        paths.append(domain_file)
    paths.extend(resolve_extra(str(item)) for item in extra_files)
    layers = [read_layer(path, objective) for path in paths]
    derived = _user_domain_layer(domain, objective, (overrides or {}).get("data_root", ""))
    if derived is not None:  # a user's domain: its size sets batch, budget and model (after domains/, before extras)
        layers.insert(len(layers) - len(extra_files), derived)
    if overrides:
        layers.append(overrides_layer(dict(overrides), objective))
    space = merge(layers, objective, domain)
    # Paths are made absolute here, in the driver, whichever layer set them: trials run elsewhere.
    return dataclasses.replace(space, fixed=absolute_paths(space.fixed))


def _user_domain_layer(domain: str, objective: str, data_root: str | Path | None) -> Layer | None:
    """The derived defaults of a registered user domain (dabs_lib.userdomain.defaults), as a layer."""
    from dabs_lib.userdomain import USER_DOMAIN_FILES

    if domain not in USER_DOMAIN_FILES:
        return None
    from dabs_lib.userdomain.defaults import prepared_layer
    from search_spaces.loader import parse_layer

    found = prepared_layer(domain, str(data_root or ""))
    if found is None:
        return None
    return parse_layer(
        found[0], found[1], f"defaults of your domain {domain} (derived from its size)", objective, prefix=("", "")
    )


def _doc(path: Path) -> str:
    return str(read_yaml(path, shown(path)).get("doc", "")).strip()


def available_spaces() -> dict[str, dict[str, str]]:
    """{"objectives"|"domains"|"addons": {name: the file's one-line doc}} for `list spaces`."""
    objectives = {
        name: _doc(ROOT / f"{name}.yaml") for name in sorted(_objectives()) if (ROOT / f"{name}.yaml").is_file()
    }
    domains = {p.stem: _doc(p) for p in sorted(DOMAINS_DIR.glob("*.yaml"))}
    addons = {name: _doc(path) for name, path in addon_files().items()}
    return {"objectives": objectives, "domains": domains, "addons": addons}
