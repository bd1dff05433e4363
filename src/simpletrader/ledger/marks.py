"""The equity of skipped bars, queued and written into the curve many ranges at once.

A range of bars on which nothing traded has, bar by bar, the equity ``cash + units x close``
(per held symbol, in the order they are held). Written as each range comes, that is half a
dozen NumPy calls for a couple of dozen bars; queued, the same float operations are done for
a few hundred ranges in one go, so the curve gets the very same values.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

Held = tuple[tuple[str, float], ...]
"""``(symbol, units)`` of every held symbol, in the order the ledger holds them."""

FLUSH_AT = 1024
"""Ranges queued before they are written: bounds the queue's memory."""


class QueuedMarks:
    """Ranges ``start..stop-1`` waiting to be written, each with its cash and holdings."""

    __slots__ = ("ranges",)

    def __init__(self) -> None:
        self.ranges: list[tuple[int, int, float, Held]] = []

    def write(
        self, curve: npt.NDArray[np.float64], closes: Mapping[str, npt.NDArray[np.float64]]
    ) -> float:
        """Write every queued range into ``curve``; return the highest equity of the ranges
        with holdings (-inf if none; a range with a NaN close counts for nothing, as a
        vectorised mark of it alone would)."""
        by_symbols: dict[tuple[str, ...], list[tuple[int, int, float, Held]]] = {}
        for queued in self.ranges:
            held = queued[3]
            # Mostly flat or one symbol: its symbols are the key without building a list.
            key = () if not held else (held[0][0],) if len(held) == 1 else tuple(s for s, _ in held)
            group = by_symbols.get(key)
            if group is None:
                by_symbols[key] = [queued]
            else:
                group.append(queued)
        self.ranges = []
        best = -np.inf
        for symbols, group in by_symbols.items():
            starts = np.array([g[0] for g in group], dtype=np.intp)
            lengths = np.array([g[1] for g in group], dtype=np.intp) - starts
            firsts = np.cumsum(lengths) - lengths
            index = np.arange(int(firsts[-1] + lengths[-1])) + np.repeat(starts - firsts, lengths)
            values = np.repeat(np.array([g[2] for g in group], dtype=np.float64), lengths)
            for j, symbol in enumerate(symbols):
                units = np.array([g[3][j][1] for g in group], dtype=np.float64)
                values += np.repeat(units, lengths) * closes[symbol][index]
            curve[index] = values
            if symbols:
                highs = np.maximum.reduceat(values, firsts)
                highs = highs[~np.isnan(highs)]
                if len(highs):
                    best = max(best, float(highs.max()))
        return float(best)
