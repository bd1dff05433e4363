"""``resample``: aggregate bars into a coarser timeframe."""

from __future__ import annotations

import re

import numpy as np

from simpletrader.core.errors import DataError
from simpletrader.data.bars import Bars

_NS_PER_SECOND = 1_000_000_000
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800}
# The Unix epoch is a Thursday; weekly bins start on Mondays (ISO weeks), 4 days later.
_WEEK_ORIGIN_NS = 4 * 86_400 * _NS_PER_SECOND
_TIMEFRAME = re.compile(r"(\d+)([smhdw])")


def parse_timeframe(timeframe: str) -> int:
    """Seconds in a timeframe such as ``30s``, ``5m``, ``1h``, ``1d`` or ``1w``."""
    match = _TIMEFRAME.fullmatch(timeframe.strip())
    if match is None or int(match.group(1)) == 0:
        raise DataError(
            f"timeframe {timeframe!r} is not valid; expected a positive count and a unit s, m, "
            f"h, d or w, such as '5m', '1h', '1d' or '1w'"
        )
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def resample(bars: Bars, timeframe: str) -> Bars:
    """``bars`` aggregated into ``timeframe`` bins (``5m``, ``1h``, ``1d``, ``1w``, ...).

    Per bin, as pandas' OHLC rules: first open, max high, min low, last close, summed volume.
    Bins are labelled at their start and aligned to UTC: multiples of the bin length since the
    Unix epoch (so days start at 00:00 UTC and hours on the hour), weeks on Monday 00:00 UTC.
    Bins without bars are dropped, not filled.

    Raises DataError when the target is finer than the source, or not a whole multiple of it
    (a source bar would straddle two bins).
    """
    target = parse_timeframe(timeframe)
    source = bars.timeframe_seconds
    if source is not None and target < source:
        raise DataError(
            f"{bars.source or bars.symbol}: cannot resample {source}s bars to {timeframe!r} "
            f"({target}s): the target is finer than the source; expected a timeframe of at "
            f"least {source}s"
        )
    if source is not None and target % source != 0:
        raise DataError(
            f"{bars.source or bars.symbol}: cannot resample {source}s bars to {timeframe!r} "
            f"({target}s): expected a whole multiple of {source}s so no bar straddles two bins"
        )

    period = target * _NS_PER_SECOND
    origin = _WEEK_ORIGIN_NS if target % _UNIT_SECONDS["w"] == 0 else 0
    # Floor division rounds towards -inf, so bars before 1970 bin correctly too.
    bins = (bars.timestamps - origin) // period
    if len(bins) == 0:
        starts = np.zeros(0, dtype=np.intp)
    else:
        starts = np.concatenate(([0], np.flatnonzero(np.diff(bins)) + 1))
    ends = np.append(starts[1:], len(bins)) - 1
    return Bars(
        symbol=bars.symbol,
        timestamps=bins[starts] * period + origin,
        open=bars.open[starts],
        high=np.maximum.reduceat(bars.high, starts) if len(starts) else bars.high[:0],
        low=np.minimum.reduceat(bars.low, starts) if len(starts) else bars.low[:0],
        close=bars.close[ends],
        volume=np.add.reduceat(bars.volume, starts) if len(starts) else bars.volume[:0],
        source=bars.source,
        timeframe_seconds=target,
    )
