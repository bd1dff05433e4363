"""``align``: put several symbols' bars on one common calendar."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from functools import reduce

import numpy as np
import numpy.typing as npt

from simpletrader.core.errors import DataError
from simpletrader.data.bars import Bars

logger = logging.getLogger(__name__)

# Monthly bars' median spacing varies between 30 and 31 days with the span, so timeframes
# within this ratio count as the same.
_TIMEFRAME_TOLERANCE = 1.1


def align(bars: Sequence[Bars]) -> tuple[Bars, ...]:
    """The given symbols' bars restricted to the timestamps they all share, in input order.

    Rule: the common calendar is the intersection of all timestamps; a timestamp missing from
    any symbol is dropped from every symbol (nothing is filled forward or invented). The number
    of bars dropped per symbol is logged at INFO on ``simpletrader.data.alignment``.

    Raises DataError when ``bars`` is empty, a symbol appears twice, the timeframes differ
    (resample first) or the symbols share no timestamp.
    """
    if not bars:
        raise DataError("align: no bars given; expected at least one symbol's Bars")
    repeated = [symbol for symbol, count in Counter(b.symbol for b in bars).items() if count > 1]
    if repeated:
        raise DataError(
            f"align: symbol{'s' if len(repeated) > 1 else ''} {', '.join(repeated)} given more "
            f"than once; expected each symbol once"
        )
    timeframes = [b.timeframe_seconds for b in bars if b.timeframe_seconds is not None]
    if timeframes and max(timeframes) > min(timeframes) * _TIMEFRAME_TOLERANCE:
        shown = ", ".join(f"{b.symbol}={b.timeframe_seconds}s" for b in bars)
        raise DataError(
            f"align: the bars have different timeframes ({shown}); expected one timeframe "
            f"(resample the finer ones first)"
        )

    # Timestamps are strictly increasing, hence unique: assume_unique skips a sort per call.
    common: npt.NDArray[np.int64] = reduce(
        lambda a, b: np.intersect1d(a, b, assume_unique=True), (b.timestamps for b in bars)
    )
    if len(common) == 0:
        spans = ", ".join(f"{b.symbol} {_span(b)}" for b in bars)
        raise DataError(
            f"align: the symbols share no timestamp ({spans}); expected overlapping calendars"
        )

    aligned = []
    for b in bars:
        dropped = len(b) - len(common)
        logger.info(
            "align: %s keeps %d of %d bars, dropped %d not shared by all symbols",
            b.symbol,
            len(common),
            len(b),
            dropped,
        )
        if dropped == 0:
            aligned.append(b)
            continue
        # Both sides sorted and every common timestamp present: searchsorted finds exact rows.
        rows = np.searchsorted(b.timestamps, common)
        aligned.append(
            Bars(
                symbol=b.symbol,
                timestamps=common,
                open=b.open[rows],
                high=b.high[rows],
                low=b.low[rows],
                close=b.close[rows],
                volume=b.volume[rows],
                source=b.source,
                timeframe_seconds=b.timeframe_seconds,
            )
        )
    return tuple(aligned)


def _span(bars: Bars) -> str:
    if len(bars) == 0:
        return "(no bars)"
    first = bars.datetime_at(0).date().isoformat()
    last = bars.datetime_at(-1).date().isoformat()
    return f"{first}..{last}"
