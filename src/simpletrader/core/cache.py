"""The point-in-time ``StrategyCache``: what a worker may know on the current bar.

Bars and facts are held as full arrays computed ahead (facts only after the causality check at
bootstrap), but every read goes through the current index: a worker sees bars up to and
including the current one, and asking for a later one raises :class:`LookAheadError`.
Reads return plain floats through memoryviews, which keeps the per-bar cost to a few
attribute reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from simpletrader.core.clock import ns_to_datetime
from simpletrader.core.errors import LookAheadError, PluginError

if TYPE_CHECKING:
    from simpletrader.data.bars import Bars
    from simpletrader.dtos import Origin, Risk, Signal


class StrategyCache:
    """Point-in-time view of bars and facts for one strategy.

    ``index`` is the current bar (set by the engine); ``ago=0`` is the current bar, ``ago=1``
    the previous one. Before the first bar of history, reads return NaN.
    """

    __slots__ = (
        "_bars",
        "_closes",
        "_fact_arrays",
        "_facts",
        "_timestamps",
        "index",
        "origin",
        "primary",
        "risks",
        "signals",
        "symbols",
    )

    def __init__(self, bars: Mapping[str, Bars], primary: str | None = None) -> None:
        if not bars:
            raise ValueError("a StrategyCache needs at least one symbol")
        self._bars = dict(bars)
        self.symbols: tuple[str, ...] = tuple(bars)
        self.primary = primary if primary is not None else self.symbols[0]
        self._closes = {s: b.close.data for s, b in bars.items()}
        self._timestamps = bars[self.primary].timestamps
        self._facts: dict[str, memoryview] = {}
        self._fact_arrays: dict[str, np.ndarray] = {}
        self.index = -1
        self.origin: Origin | None = None
        self.signals: tuple[Signal, ...] = ()
        self.risks: tuple[Risk, ...] = ()

    def add_fact(self, name: str, values: np.ndarray) -> None:
        """Register a fact series (bootstrap only, after its causality check)."""
        if name in self._facts:
            raise PluginError(f"fact {name!r} is produced twice; give the workers distinct names")
        n = len(self._timestamps)
        if values.shape != (n,):
            raise PluginError(f"fact {name!r} has shape {values.shape}; expected ({n},)")
        array = np.ascontiguousarray(values, dtype=np.float64)
        self._fact_arrays[name] = array
        self._facts[name] = array.data

    @property
    def fact_names(self) -> tuple[str, ...]:
        return tuple(self._facts)

    def _position(self, ago: int) -> int:
        if ago < 0:
            raise LookAheadError(
                f"look-ahead: asked for {-ago} bar(s) after the current bar {self.index}"
            )
        return self.index - ago

    def fact(self, name: str, ago: int = 0) -> float:
        """The value of fact ``name`` ``ago`` bars back (NaN before history starts)."""
        k = self.index - ago
        if ago < 0:
            self._position(ago)
        if k < 0:
            return float("nan")
        try:
            return self._facts[name][k]
        except KeyError:
            known = ", ".join(sorted(self._facts)) or "none"
            raise PluginError(f"unknown fact {name!r}; known facts: {known}") from None

    def close(self, symbol: str | None = None, ago: int = 0) -> float:
        k = self.index - ago
        if ago < 0:
            self._position(ago)
        if k < 0:
            return float("nan")
        return self._closes[symbol or self.primary][k]

    def bar(self, symbol: str | None = None, ago: int = 0) -> tuple[float, float, float, float]:
        """(open, high, low, close) of a past or the current bar."""
        k = self._position(ago)
        b = self._bars[symbol or self.primary]
        return float(b.open[k]), float(b.high[k]), float(b.low[k]), float(b.close[k])

    def window(self, name: str, length: int) -> np.ndarray:
        """The last ``length`` values of a fact, ending at the current bar (a read-only view)."""
        end = self.index + 1
        view = self._fact_arrays[name][max(0, end - length) : end]
        view.flags.writeable = False
        return view

    def closes(self, length: int, symbol: str | None = None) -> np.ndarray:
        end = self.index + 1
        view = self._bars[symbol or self.primary].close[max(0, end - length) : end]
        view.flags.writeable = False
        return view

    def at(self, index: int) -> int:
        """Guard for code that addresses bars by absolute index."""
        if index > self.index:
            raise LookAheadError(f"look-ahead: bar {index} is after the current bar {self.index}")
        return index

    @property
    def timestamp_ns(self) -> int:
        return int(self._timestamps[self.index])

    @property
    def timestamp(self) -> datetime:
        """The current bar's open time."""
        return ns_to_datetime(self.timestamp_ns)
