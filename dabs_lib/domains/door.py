"""The one door data enter by: a domain is prepared in the driver, before Ray starts.

`prepare_domain` builds a domain exactly as a trial will (same seed, data root and smoke
flag), which reads, validates and caches its files (dabs_lib/datasets/cache.py: keyed by
content, written atomically), then checks that every split can feed a trial. Trials find the
cache complete and only read it, so N workers never race to preprocess the same files, and
a problem in a file's contents is one error here, naming the file, instead of a traceback
from every trial.

Errors a loader does not foresee (a library raising on a malformed file) become
`DomainPreparationError`, which names the domain and the folder it read: still one line.
"""

from __future__ import annotations

from pathlib import Path

from dabs_lib.datasets.errors import DatasetError
from dabs_lib.domains.base import Domain


class DomainPreparationError(DatasetError, ValueError):
    """A domain's files could not be turned into usable splits."""

    def __init__(self, domain: str, where: str, problem: str):
        self.domain = domain
        self.where = where
        self.problem = problem
        place = f" (files under {where})" if where else ""
        super().__init__(f"domain {domain!r}{place}: {problem}")


def _split_sizes(domain: Domain) -> list[tuple[str, int]]:
    """(split name, rows) of every split a trial reads: pretraining, then each task's train/val/test."""
    sizes = [("pretrain", len(domain.pretrain))]
    for name, task in domain.tasks.items():
        sizes += [(f"{name}/{part}", len(getattr(task, part))) for part in ("train", "val", "test")]
    return sizes


def check_splits(domain: Domain, where: str = "") -> None:
    """Every split a trial reads must hold at least one row."""
    if not domain.tasks:
        raise DomainPreparationError(domain.name, where, "has no transfer task, but a search scores transfer")
    empty = [name for name, rows in _split_sizes(domain) if rows == 0]
    if empty:
        raise DomainPreparationError(
            domain.name,
            where,
            f"every split must hold at least one row, but {', '.join(empty)} "
            f"{'is' if len(empty) == 1 else 'are'} empty",
        )


def prepare_domain(name: str, seed: int = 42, data_root: str | Path = "", smoke: bool = False) -> Domain:
    """Build `name` as a trial would (reading, validating and caching its files) and check its splits.

    Raises DatasetError (one line naming the file, or the domain and its folder) for any
    problem with the data; programming errors in the project are not data problems, but a
    library's error on a malformed file is, so every non-dataset Exception is named too."""
    from dabs_lib.domains import DOMAINS, get_domain
    from dabs_lib.registry import lookup
    from dabs_lib.userdomain.registered import is_registered

    if not is_registered(name, str(data_root)):  # a user's domain, prepared before this call
        lookup(DOMAINS, name, "domain")  # an unknown name is the registry's KeyError, not a data problem
    where = str(data_root)
    try:
        domain = get_domain(name, seed=seed, data_root=str(data_root), smoke=smoke)  # cached per process
    except DatasetError:
        raise
    except Exception as error:  # noqa: BLE001 (a library's error on a bad file must still be one line)
        last = str(error).strip().splitlines()[-1] if str(error).strip() else ""
        raise DomainPreparationError(
            name, where, f"its files could not be read ({type(error).__name__}: {last})"
        ) from error
    check_splits(domain, where)
    return domain
