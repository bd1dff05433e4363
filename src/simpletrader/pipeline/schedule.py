"""Schedules: which bars a cron schedule fires on, computed once at bootstrap.

A scheduled time t fires on the first bar whose close is at or after t; several times within
one bar fire that bar once. Times at or before the first bar's open are before the data and
never fire. The flow then only compares the current bar index with the next fire bar.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from croniter import croniter

_NS = 1_000_000_000


def _moment(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / _NS, tz=UTC)


def fire_bars(
    cron: str, opens_ns: npt.NDArray[np.int64], bar_ns: int, first: int = 0
) -> npt.NDArray[np.int64]:
    """Sorted indices of the bars on which ``cron`` (UTC) fires, from bar ``first`` on.

    ``opens_ns`` are the bars' open times and ``bar_ns`` their length (a bar closes at
    open + length, as the engine's clock says). Raises ``ValueError`` for invalid cron text.
    The cost is one cron step per fire bar (a time within an already-firing bar is skipped).
    """
    if not croniter.is_valid(cron):
        raise ValueError(f"schedule {cron!r} is not a valid cron expression")
    n = len(opens_ns)
    if n == 0 or first >= n:
        return np.empty(0, dtype=np.int64)
    closes = np.asarray(opens_ns, dtype=np.int64) + np.int64(bar_ns)
    last_close = int(closes[-1])
    it = croniter(cron, _moment(int(opens_ns[0])))
    found: list[int] = []
    while True:
        at_ns = round(it.get_next(float) * _NS)
        if at_ns > last_close:
            break
        k = int(np.searchsorted(closes, at_ns, side="left"))
        if k >= first:
            found.append(k)
        # Every time up to this bar's close fires this same bar: continue after it.
        it.set_current(_moment(int(closes[k])), force=True)
    return np.asarray(found, dtype=np.int64)
