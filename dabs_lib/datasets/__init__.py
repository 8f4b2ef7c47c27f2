"""Real DABS datasets: loaders for the original files, preprocessed once into memmaps.

`REAL_DOMAINS` maps a domain name to its builder `build(seed=42, data_root="", smoke=False)
-> Domain` (the same signature as the embedded domains). Builders never download: missing
files raise ManualDownloadError saying what to fetch, from where and where to put it;
`fetch(name, data_root)` (or `python -m dabs_lib.datasets download NAME`) fetches what
can be fetched. `dataset_status(name, data_root)` says whether a domain's files are there.
Layout: `<data_root>/<source>/` holds each source's raw files and `processed/`
(data_root: --data-root, else $DABS_DATA_ROOT, else ./data).

This file imports no loader module at import time, so `dabs_lib.domains` can merge
REAL_DOMAINS into its registry without an import cycle.
"""
from __future__ import annotations

from importlib import import_module

from dabs_lib.datasets.errors import ChecksumError, DatasetError, DatasetFileError, ManualDownloadError
from dabs_lib.registry import lookup

# domain -> (module, builder, required sources, optional sources); sources are module attributes
_DOMAINS = {
    "chexpert": ("medical", "build", ("CHEXPERT",), ("XRAY8",)),
    "cifar10": ("cifar", "build", ("SOURCE",), ("PRETRAIN", "OPTIONAL")),
    "cifar10_small": ("cifar", "build_small", ("SOURCE",), ("OPTIONAL",)),
    "eurosat": ("eurosat", "build", ("SOURCE",), ()),
    "genomics": ("genomics", "build", ("SOURCE",), ()),
    "higgs": ("higgs", "build", ("SOURCE",), ()),
    "librispeech": ("speech", "build", ("REQUIRED",), ("OPTIONAL",)),
    "mscoco": ("mscoco", "build", ("MSCOCO",), ("OPTIONAL",)),
    "pamap2": ("pamap2", "build", ("SOURCE",), ()),
    "pawsx": ("pawsx", "build", ("REQUIRED",), ("OPTIONAL",)),
    "proteins": ("proteins", "build", ("PFAM",), ("OPTIONAL",)),
    "wm811k": ("wm811k", "build", ("SOURCE",), ()),
    "wikitext103": ("wikitext", "build", ("SOURCE", "GLUE"), ("BERT_TOKENIZER",)),
}


def _module(name: str):
    return import_module(f"dabs_lib.datasets.{name}")


def _lazy_builder(domain: str):
    module, attr = _DOMAINS[domain][:2]

    def build(seed: int = 42, data_root: str = "", smoke: bool = False):
        return getattr(_module(module), attr)(seed=seed, data_root=data_root, smoke=smoke)

    build.__name__ = f"build_{domain}"
    build.__doc__ = f"Real-data domain {domain!r}: dabs_lib.datasets.{module}.{attr}."
    return build


REAL_DOMAINS = {name: _lazy_builder(name) for name in _DOMAINS}


def _flatten(module, attrs) -> tuple:
    out = []
    for attr in attrs:
        value = getattr(module, attr)
        out.extend(value if isinstance(value, tuple) else (value,))
    return tuple(out)


def domain_sources(domain: str) -> tuple[tuple, tuple]:
    """(required sources, optional sources) of a real domain."""
    module_name, _, required, optional = lookup(_DOMAINS, domain, "real domain")
    module = _module(module_name)
    return _flatten(module, required), _flatten(module, optional)


def all_sources() -> dict:
    """source name -> Source, over every real domain."""
    return {s.name: s for d in _DOMAINS for group in domain_sources(d) for s in group}


def _resolve(name: str) -> tuple[tuple, tuple]:
    if name in _DOMAINS:
        return domain_sources(name)
    return (lookup(all_sources(), name, "real domain or dataset"),), ()


def dataset_status(name: str, data_root: str = "") -> tuple[bool, str]:
    """(present, how_to_get) for a real domain (or one source). `present` when every required
    file is on disk; `how_to_get` says what is missing and how to get it ("" when nothing is)."""
    required, optional = _resolve(name)
    lines = [f"[required] {s.name}: {s.instructions(data_root)}" for s in required if s.missing(data_root)]
    present = not lines
    lines += [f"[optional] {s.name}: {s.instructions(data_root)}" for s in optional if s.missing(data_root)]
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
    "ChecksumError", "DatasetError", "DatasetFileError", "ManualDownloadError", "REAL_DOMAINS", "all_sources", "check_files",
    "dataset_status", "domain_sources", "fetch",
]
