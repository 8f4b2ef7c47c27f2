"""The function Tune runs for every trial of a search, by the name `pretrain_transfer`.

It imports the work (trainables.pretrain_transfer: torch, the domains, the probe) when a trial
calls it, so the driver, which only hands this function to Tune, never imports torch (about
490 MB of its memory), and a trial's worker imports nothing else of the engine to find it.
"""

from __future__ import annotations

from typing import Any


def pretrain_transfer(trial_config: dict[str, Any]) -> None:
    from trainables.pretrain_transfer import pretrain_transfer as work

    work(trial_config)
