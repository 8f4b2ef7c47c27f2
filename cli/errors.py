"""User errors: printed as one line by run_search.py, exit status 2, never a traceback."""
from __future__ import annotations


class UserError(Exception):
    """Bad input: says what must hold, what was given, and where (file, key or flag)."""


def parse_set(pairs: list[str], flag: str = "--set") -> dict:
    """`key=value` pairs -> dict, values parsed as YAML scalars (1e-3, true, [1, 2])."""
    import yaml

    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"{flag} takes key=value, but got {pair!r}")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise UserError(f"{flag} {key}: {value!r} is not a valid value") from None
    return out


def split_names(values: list[str] | None) -> tuple[str, ...]:
    """Repeatable and comma-separated: --domain a,b --domain c -> (a, b, c)."""
    names = []
    for value in values or []:
        names.extend(v.strip() for v in value.split(",") if v.strip())
    return tuple(dict.fromkeys(names))
