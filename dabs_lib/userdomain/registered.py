"""Which user domains are registered (prepared under a data root), and what their files say, without
torch: the CLI's checks and a search's driver ask this; dabs_lib.userdomain.load builds the domain."""

from __future__ import annotations

import json
from pathlib import Path

from dabs_lib.userdomain.prepare import REGISTRATION, user_folder


def is_registered(name: str, data_root: str = "") -> bool:
    return (user_folder(data_root, name) / REGISTRATION).is_file()


def source_of(name: str, data_root: str = "") -> Path:
    """The domain file a registered user domain was prepared from."""
    return Path(json.loads((user_folder(data_root, name) / REGISTRATION).read_text())["source"])


def split_seed_conflict(name: str, data_root: str, given: object) -> str:
    """Why `data_seed` (given explicitly) cannot apply to user domain `name`, or "" when it can.

    A user domain's splits belong to its file (`split.column`, or drawn with `split.seed`) and are
    prepared once before Ray starts; a `data_seed` that says otherwise would be dropped silently."""
    from dabs_lib.userdomain.schema import load_domain_file

    if not is_registered(name, data_root):
        return ""
    path = source_of(name, data_root)
    split = load_domain_file(path).split
    if split.column:
        return (
            f"data_seed does not apply to domain {name!r}: its splits are given by column "
            f"{split.column!r} ({path}), but got data_seed={given!r}; drop data_seed"
        )
    if given != split.seed:
        return (
            f"data_seed must equal split.seed of domain {name!r} ({split.seed}, {path}), which draws "
            f"its splits, but got data_seed={given!r}; set split.seed in the domain file instead"
        )
    return ""
