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


def split_names(values: list[str] | None) -> tuple[str, ...]:
    """Repeatable and comma-separated: --domain a,b --domain c -> (a, b, c)."""
    names = []
    for value in values or []:
        names.extend(v.strip() for v in value.split(",") if v.strip())
    return tuple(dict.fromkeys(names))
