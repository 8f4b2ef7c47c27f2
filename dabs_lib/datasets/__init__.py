"""Real DABS datasets: loaders for the original files, preprocessed once into memmaps.

`REAL_DOMAINS` maps a domain name to its builder `build(seed=42, data_root="", smoke=False)
-> Domain` (the same signature as the embedded domains). Builders never download: missing
files raise ManualDownloadError saying what to fetch, from where and where to put it;
`fetch(name, data_root)` (or `python -m dabs_lib.datasets download NAME`) fetches what
can be fetched. `dataset_status(name, data_root)` says whether a domain's files are there.
Layout: `<data_root>/<source>/` holds each source's raw files and `processed/`
(data_root: --data-root, else $DABS_DATA_ROOT, else ./data).

This file imports no loader module at import time (only the torch-free catalogues of
sources), so `dabs_lib.domains` can merge REAL_DOMAINS into its registry without an import
cycle, and checking files (status, `list domains`, the search preflight) never imports torch.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from dabs_lib.datasets import catalog, catalog_speech, catalog_text
from dabs_lib.datasets.errors import ChecksumError, DatasetError, DatasetFileError, ManualDownloadError
from dabs_lib.registry import lookup
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: this module must not import torch
    from dabs_lib.datasets.source import Source
    from dabs_lib.domains.base import Domain, DomainBuilder

# domain -> (loader module, builder, required sources, optional sources). The sources come from the
# torch-free catalogues, so checking files never imports a loader (nor torch).
_DOMAINS = {
    "chexpert": ("medical", "build", (catalog.CHEXPERT,), (catalog.XRAY8,)),
    # cifar10 pretrains on ImageNet when present; both transfer to the natural-image sets
    "cifar10": ("cifar", "build", (catalog.CIFAR10,), (catalog.IMAGENET, *catalog.NATURAL)),
    "cifar10_small": ("cifar", "build_small", (catalog.CIFAR10,), catalog.NATURAL),
    "eurosat": ("eurosat", "build", (catalog.EUROSAT,), ()),
    "genomics": ("genomics", "build", (catalog.GENOMICS,), ()),
    "higgs": ("higgs", "build", (catalog.HIGGS,), ()),
    "librispeech": ("speech", "build", (catalog_speech.LIBRISPEECH,), catalog_speech.TRANSFER),
    "mscoco": ("mscoco", "build", (catalog_text.MSCOCO,), (catalog_text.BERT_TOKENIZER, catalog_text.VQA)),
    "pamap2": ("pamap2", "build", (catalog.PAMAP2,), ()),
    "pawsx": ("pawsx", "build", (catalog_text.MC4, catalog_text.PAWSX), (catalog_text.XLMR_TOKENIZER,)),
    "proteins": ("proteins", "build", (catalog_text.PFAM,), catalog_text.TAPE_TRANSFER),
    "wm811k": ("wm811k", "build", (catalog.WM811K,), ()),
    "wikitext103": ("wikitext", "build", (catalog_text.WIKITEXT, catalog_text.GLUE), (catalog_text.BERT_TOKENIZER,)),
}


def _module(name: str) -> ModuleType:
    return import_module(f"dabs_lib.datasets.{name}")


def _lazy_builder(domain: str) -> DomainBuilder:
    module, attr = _DOMAINS[domain][:2]

    def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
        return getattr(_module(module), attr)(seed=seed, data_root=data_root, smoke=smoke)

    build.__name__ = f"build_{domain}"
    build.__doc__ = f"Real-data domain {domain!r}: dabs_lib.datasets.{module}.{attr}."
    return build


REAL_DOMAINS: dict[str, DomainBuilder] = {name: _lazy_builder(name) for name in _DOMAINS}


def domain_sources(domain: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """(required sources, optional sources) of a real domain."""
    return lookup(_DOMAINS, domain, "real domain")[2:]


def all_sources() -> dict[str, Any]:
    """source name -> Source, over every real domain."""
    return {s.name: s for d in _DOMAINS for group in domain_sources(d) for s in group}


def _resolve(name: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    if name in _DOMAINS:
        return domain_sources(name)
    return (lookup(all_sources(), name, "real domain or dataset"),), ()


def _source_problem(source: Source, data_root: str | Path) -> str:
    """'' when the source's required files are there; else what is wrong and how to fix it."""
    if source.missing(data_root):
        return source.instructions(data_root)
    wrong = source.wrong_kind(data_root)
    return f"{wrong[0][0]} {wrong[0][1]}. {source.instructions(data_root)}" if wrong else ""


def dataset_status(name: str, data_root: str = "") -> tuple[bool, str]:
    """(present, how_to_get) for a real domain (or one source). `present` when every required
    file is on disk (files as files, folders as folders); `how_to_get` says what is missing or
    misplaced and how to fix it, one line per source ("" when nothing is)."""
    required, optional = _resolve(name)
    lines = [f"[required] {s.name}: {problem}" for s in required if (problem := _source_problem(s, data_root))]
    present = not lines
    lines += [f"[optional] {s.name}: {problem}" for s in optional if (problem := _source_problem(s, data_root))]
    return present, "\n".join(lines)


def check_files(name: str, data_root: str = "") -> None:
    """Raise what a build would raise first for missing or misplaced raw files: ManualDownloadError
    naming the first missing required file, DatasetFileError naming a folder where a file must be.
    Only files are checked (nothing is read or preprocessed): cheap enough to run before Ray starts."""
    required, _ = _resolve(name)
    for source in required:
        source.check(data_root)


def fetch(name: str, data_root: str = "", progress: bool = True) -> list[str]:
    """Fetch the downloadable, missing sources of a domain (or one source); returns the
    instructions of those that need a manual download."""
    required, optional = _resolve(name)
    manual = []
    for source in (*required, *optional):
        if not source.missing(data_root):
            continue
        if source.archives:
            source.download(data_root, progress=progress)
        else:
            manual.append(f"{source.name}: {source.instructions(data_root)}")
    return manual


__all__ = [
    "ChecksumError",
    "DatasetError",
    "DatasetFileError",
    "ManualDownloadError",
    "REAL_DOMAINS",
    "all_sources",
    "check_files",
    "dataset_status",
    "domain_sources",
    "fetch",
]
