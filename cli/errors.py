"""User errors: printed as one line by run_search.py, exit status 2, never a traceback."""

from __future__ import annotations

import contextlib
import re
from typing import Iterator


class UserError(Exception):
    """Bad input: says what must hold, what was given, and where (file, key or flag)."""


@contextlib.contextmanager
def user_errors(where: str = "") -> Iterator[None]:
    """Turn the errors that bad input raises (registry KeyError, config ValueError, missing
    files) into UserError. Used around validation only, so bugs keep their traceback."""
    try:
        yield
    except UserError:
        raise
    except KeyError as error:
        raise UserError(f"{where}{error.args[0] if error.args else error}") from None
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        raise UserError(f"{where}{error}") from None


_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def parse_set(pairs: list[str], flag: str = "--set") -> dict:
    """`key=value` pairs -> dict, values parsed as YAML scalars (1e-3, true, [1, 2])."""
    import yaml

    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"{flag} takes key=value, but got {pair!r}")
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            raise UserError(f"{flag} {key}: {value!r} is not a valid value") from None
        if isinstance(parsed, str) and _EXPONENT.fullmatch(parsed.strip()):
            parsed = float(parsed)  # YAML 1.1 reads 1e-3 (no dot) as a string; users mean a number
        out[key.strip()] = parsed
    return out


def refuse_smoke_overrides(smoke_test: bool, given: dict, flag: str = "--set") -> None:
    """A --set that --smoke-test would silently replace is refused: the user says which one wins."""
    from dabs_lib.config import smoke_conflicts

    conflicts = smoke_conflicts(given) if smoke_test else []
    if conflicts:
        raise UserError(
            f"--smoke-test fixes the tiny model and a few steps, so a {flag} of them would be dropped, "
            f"but got {flag} {', '.join(conflicts)}; drop --smoke-test or that {flag}"
        )


def check_folder_arg(flag: str, value: object) -> None:
    """A folder the command will write into: neither it nor any folder above it may be a file."""
    import os

    if value is None or "://" in str(value):
        return
    path = os.path.abspath(os.path.expanduser(str(value)))
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f"{flag} must be a folder, but got {str(value)!r}, where {path!r} is a file")


def split_names(values: list[str] | None) -> tuple[str, ...]:
    """Repeatable and comma-separated: --domain a,b --domain c -> (a, b, c)."""
    names = []
    for value in values or []:
        names.extend(v.strip() for v in value.split(",") if v.strip())
    return tuple(dict.fromkeys(names))
