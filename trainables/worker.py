"""What every trial report says about where it ran: the Ray node, and the warnings its code logged."""
from __future__ import annotations

import ray

from dabs_lib import trial_warnings

NODE_ID = "node_id"  # the Ray node of the trial (several nodes may share one host and IP)


def start_trial() -> None:
    """At a trial's start, in its worker: collect dabs_lib's warnings for the reports."""
    trial_warnings.capture()


def report_extras() -> dict[str, str]:
    return {NODE_ID: ray.get_runtime_context().get_node_id(), **trial_warnings.drain()}
