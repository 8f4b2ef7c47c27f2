"""The domain registry: name -> builder `build(seed=42, data_root="", smoke=False) -> Domain`.

The embedded domains below need no download: two small real tables bundled with
scikit-learn (`digits`, `tabular`) and four seeded synthetic generators whose classes
differ only in structure self-supervision can find (`tokens`, `sensor`, `speech`,
`captions`). Each module's docstring says exactly what its data are.
"""

from __future__ import annotations

import functools
from importlib import import_module

from dabs_lib.domain_names import EMBEDDED_DOMAIN_NAMES
from dabs_lib.domains.base import Domain, DomainBuilder
from dabs_lib.registry import lookup

# Built in memory from seeded generators or scikit-learn's bundled tables; key == module name
# (the names' one owner, torch-free for the search driver and the CLI: dabs_lib.domain_names).
EMBEDDED_DOMAINS: dict[str, DomainBuilder] = {
    name: import_module(f"dabs_lib.domains.{name}").build for name in EMBEDDED_DOMAIN_NAMES
}

DOMAINS: dict[str, DomainBuilder] = dict(EMBEDDED_DOMAINS)
# Real DABS datasets (read from `data_root`) are registered into DOMAINS below this line by
# their own package; EMBEDDED_DOMAINS stays the set that needs no files (tests, smoke runs).
from dabs_lib.datasets import REAL_DOMAINS  # noqa: E402

DOMAINS.update(REAL_DOMAINS)


def get_domain(name: str, seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """DOMAINS[name](seed, data_root, smoke), built once per process for each argument set;
    a user's domain (dabs_lib.userdomain) registered under `data_root` when `name` is no built-in one.

    A Ray worker runs many trials on the same domain: caching spares it rebuilding the
    tensors each time. Callers must treat the returned Domain as read-only.
    """
    if name not in DOMAINS:
        from dabs_lib.userdomain.load import open_prepared
        from dabs_lib.userdomain.registered import is_registered

        if is_registered(name, data_root):  # a user's domain, prepared by the driver before Ray started
            return _build_user(name, str(data_root), open_prepared(name, data_root).folder.name, bool(smoke))
    lookup(DOMAINS, name, "domain")  # the registry's one error message for unknown names
    return _build(name, seed, str(data_root), bool(smoke))


@functools.cache
def _build_user(name: str, data_root: str, prepared: str, smoke: bool) -> Domain:
    """Cached per prepared folder: a re-prepared (edited) domain is built again."""
    from dabs_lib.userdomain.load import build_user_domain

    return build_user_domain(name, data_root, smoke)


@functools.cache
def _build(name: str, seed: int, data_root: str, smoke: bool) -> Domain:
    return DOMAINS[name](seed=seed, data_root=data_root, smoke=smoke)
