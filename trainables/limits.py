"""How long a search waits for a cluster it joins. Ray-free, so `--help` shows the defaults
without importing Ray; trainables.cluster applies them."""

from __future__ import annotations

CONNECT_TIMEOUT_S = 10.0  # --address must answer within this
SCHEDULE_TIMEOUT_S = 120.0  # --schedule-timeout's default; an autoscaler starting a node may need longer
