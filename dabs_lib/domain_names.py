"""The built-in domains' names, without torch: what the search-space loader, the CLI's checks
and a search's driver need (they never build a domain; the trials do). The embedded domains'
builders are `dabs_lib/domains/<name>.py`'s `build` (dabs_lib.domains.EMBEDDED_DOMAINS is made
from this tuple); the real ones are dabs_lib.datasets.REAL_DOMAINS, itself torch-free.
"""

from __future__ import annotations

EMBEDDED_DOMAIN_NAMES = ("captions", "digits", "sensor", "speech", "tabular", "tokens")


def builtin_domain_names() -> list[str]:
    """Every built-in domain: the embedded ones, then the real DABS datasets."""
    from dabs_lib.datasets import REAL_DOMAINS

    return [*EMBEDDED_DOMAIN_NAMES, *REAL_DOMAINS]
