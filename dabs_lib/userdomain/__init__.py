"""Users' own domains, described by a YAML domain file (no Python): schema, readers, preparation.

`--domain path/to/domain.yaml` names a domain file; `--domain NAME` finds `NAME.yaml` in the
folder $DABS_DOMAINS_DIR names. The driver resolves the value (`resolve`), prepares the data
into the cache before Ray starts (`prepare`), and every process then builds the Domain from
the prepared folder (`dabs_lib.domains.get_domain`, which falls back on
`dabs_lib.userdomain.load.build_user_domain`). This module imports neither torch nor Ray.
"""

from __future__ import annotations

import os
from pathlib import Path

from dabs_lib.userdomain.schema import DomainFile, DomainFileError, load_domain_file

DOMAINS_DIR_ENV = "DABS_DOMAINS_DIR"  # a folder of <name>.yaml domain files, usable by name
SUFFIXES = (".yaml", ".yml")

# name -> absolute domain file, for the domains this process resolved (the driver).
USER_DOMAIN_FILES: dict[str, str] = {}


def _builtin_names() -> set[str]:
    from dabs_lib.domains import (
        DOMAINS,  # imports torch; only when a user domain is named
    )

    return set(DOMAINS)


def domain_file_for(value: str) -> Path | None:
    """The domain file a --domain value names: a path to a .yaml, or NAME in $DABS_DOMAINS_DIR; None otherwise."""
    path = Path(value).expanduser()
    if path.suffix.lower() in SUFFIXES or path.is_file():
        return path.resolve()
    folder = os.environ.get(DOMAINS_DIR_ENV, "")
    if folder and value not in _builtin_names():
        for suffix in SUFFIXES:
            candidate = Path(folder).expanduser() / f"{value}{suffix}"
            if candidate.is_file():
                return candidate.resolve()
    return None


def register(path: Path | str) -> str:
    """Load a domain file, check its name is no built-in one, and remember it in this process (the
    latest file of a name wins); its name."""
    domain = load_domain_file(path)
    if domain.name in _builtin_names():
        raise DomainFileError(f"name must not be a built-in domain's, but got {domain.name!r} in {domain.path}")
    USER_DOMAIN_FILES[domain.name] = str(domain.path)
    return domain.name


def resolve(value: str) -> str:
    """A --domain value -> the domain's name (a user domain file is loaded and registered)."""
    path = domain_file_for(value)
    return register(path) if path is not None else value


def available_files() -> dict[str, Path]:
    """name (file stem) -> domain file, for every .yaml in $DABS_DOMAINS_DIR."""
    folder = os.environ.get(DOMAINS_DIR_ENV, "")
    if not folder or not Path(folder).expanduser().is_dir():
        return {}
    return {p.stem: p for p in sorted(Path(folder).expanduser().iterdir()) if p.suffix.lower() in SUFFIXES}


__all__ = [
    "DOMAINS_DIR_ENV",
    "USER_DOMAIN_FILES",
    "DomainFile",
    "DomainFileError",
    "available_files",
    "domain_file_for",
    "load_domain_file",
    "register",
    "resolve",
]
