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
    the previous one. Before the first bar of history, reads return NaN. Every accessor
    (``fact``, ``close``, ``volume``, ``bar``, ``window``, ``closes``, ``at``) raises
    :class:`LookAheadError` for a bar after the current one. Arrays handed out are read-only
    views that end at the current bar; their ``.base`` and the private attributes are not part
    of the contract.

    Facts are keyed by name (``"<worker>"`` or ``"<worker>.<key>"``) and remember the worker
    that produced them (:meth:`producer`). ``origin``, ``signals`` and ``risks`` are those of
    the last flow that ran (set by the flow before the strategy planner decides).
    """

    __slots__ = (
        "_bars",
        "_closes",
        "_fact_arrays",
        "_facts",
        "_producers",
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
        if primary is not None and primary not in self._bars:
            raise ValueError(f"primary symbol {primary!r} is not one of {', '.join(self.symbols)}")
        self.primary = primary if primary is not None else self.symbols[0]
        self._closes = {s: b.close.data for s, b in bars.items()}
        self._timestamps = bars[self.primary].timestamps
        self._facts: dict[str, memoryview] = {}
        self._fact_arrays: dict[str, np.ndarray] = {}
        self._producers: dict[str, str] = {}
        self.index = -1
        self.origin: Origin | None = None
        self.signals: tuple[Signal, ...] = ()
        self.risks: tuple[Risk, ...] = ()

    def release(self) -> None:
        """Forget the facts once the run is over (reading one afterwards is an unknown fact).

        The engine's parts refer to one another (worker, coordinator, venue), so they outlive a
        run until the garbage collector meets them; the facts, a float per bar each, need not.
        """
        self._facts.clear()
        self._fact_arrays.clear()

    def add_fact(
        self, name: str, values: np.ndarray, producer: str | None = None, *, owned: bool = False
    ) -> None:
        """Register a fact series (bootstrap only, after its causality check).

        ``producer`` is the name of the worker that computed it (default: the part of ``name``
        before the first dot). Raises PluginError for a name already taken or a wrong length.

        The cache keeps a read-only copy, so no holder of ``values`` can change history. With
        ``owned`` the caller hands ``values`` over instead: it guarantees that nothing else
        refers to the array or to memory it views (``compute_facts`` makes sure of it), and
        the array itself is frozen, without a copy.
        """
        producer = producer if producer is not None else name.split(".", 1)[0]
        if name in self._facts:
            raise PluginError(
                f"fact {name!r} of worker {producer!r} is already produced by worker "
                f"{self._producers[name]!r}; give the workers distinct names"
            )
        n = len(self._timestamps)
        if values.shape != (n,):
            raise PluginError(
                f"fact {name!r} of worker {producer!r} has shape {values.shape}; expected ({n},),"
                f" one value per bar"
            )
        array = np.ascontiguousarray(values, dtype=np.float64)
        if array is values and not owned:
            # Never freeze the caller's array behind its back: keep a private copy.
            array = array.copy()
        array.flags.writeable = False
        self._fact_arrays[name] = array
        self._facts[name] = array.data
        self._producers[name] = producer

    @property
    def fact_names(self) -> tuple[str, ...]:
        return tuple(self._facts)

    def producer(self, name: str) -> str:
        """The name of the worker that produced fact ``name``."""
        try:
            return self._producers[name]
        except KeyError:
            raise self._unknown_fact(name) from None

    def facts_of(self, worker: str) -> tuple[str, ...]:
        """The names of the facts worker ``worker`` produced, in registration order."""
        return tuple(name for name, who in self._producers.items() if who == worker)

    def _unknown_fact(self, name: str) -> PluginError:
        known = ", ".join(sorted(self._facts)) or "none"
        return PluginError(f"unknown fact {name!r}; known facts: {known}")

    def _unknown_symbol(self, symbol: str | None) -> PluginError:
        return PluginError(
            f"unknown symbol {symbol!r}; this strategy has {', '.join(self.symbols)}"
        )

    def _ahead(self, ago: int) -> LookAheadError:
        return LookAheadError(
            f"look-ahead: asked for {-ago} bar(s) after the current bar {self.index}; a worker "
            f"sees bars up to and including the current one (ago >= 0)"
        )

    def fact(self, name: str, ago: int = 0) -> float:
        """The value of fact ``name`` ``ago`` bars back (NaN before history starts)."""
        k = self.index - ago
        if ago < 0:
            raise self._ahead(ago)
        if k < 0:
            if name not in self._facts:
                raise self._unknown_fact(name)
            return float("nan")
        try:
            return self._facts[name][k]
        except KeyError:
            raise self._unknown_fact(name) from None

    def close(self, symbol: str | None = None, ago: int = 0) -> float:
        """The close of ``symbol`` (default: the primary) ``ago`` bars back (NaN before history)."""
        k = self.index - ago
        if ago < 0:
            raise self._ahead(ago)
        if k < 0:
            return float("nan")
        try:
            return self._closes[symbol or self.primary][k]
        except KeyError:
            raise self._unknown_symbol(symbol) from None

    def _series(self, symbol: str | None) -> Bars:
        try:
            return self._bars[symbol or self.primary]
        except KeyError:
            raise self._unknown_symbol(symbol) from None

    def volume(self, symbol: str | None = None, ago: int = 0) -> float:
        """The volume of ``symbol`` ``ago`` bars back (NaN before history starts)."""
        if ago < 0:
            raise self._ahead(ago)
        b = self._series(symbol)
        k = self.index - ago
        return float("nan") if k < 0 else float(b.volume[k])

    def bar(self, symbol: str | None = None, ago: int = 0) -> tuple[float, float, float, float]:
        """(open, high, low, close) of a past or the current bar (NaNs before history starts)."""
        if ago < 0:
            raise self._ahead(ago)
        b = self._series(symbol)
        k = self.index - ago
        if k < 0:
            # A negative position would wrap to the end of the arrays: the future.
            nan = float("nan")
            return nan, nan, nan, nan
        return float(b.open[k]), float(b.high[k]), float(b.low[k]), float(b.close[k])

    def _span(self, length: int, ago: int) -> tuple[int, int]:
        if ago < 0:
            raise self._ahead(ago)
        if length < 1:
            raise PluginError(f"a window needs length >= 1, got {length}")
        end = max(0, self.index + 1 - ago)
        return max(0, end - length), end

    def window(self, name: str, length: int, ago: int = 0) -> np.ndarray:
        """The last ``length`` values of a fact, ending ``ago`` bars before the current bar.

        A read-only view, shorter than ``length`` near the start of history.
        """
        start, end = self._span(length, ago)
        try:
            array = self._fact_arrays[name]
        except KeyError:
            raise self._unknown_fact(name) from None
        return array[start:end]

    def whole_fact(self, name: str) -> np.ndarray:
        """The whole history of a fact, for bootstrap-time vectorised pre-filters only.

        Flows must use ``fact``/``window``: this bypasses the point-in-time guard. A detector's
        ``candidates`` may use it because each of its values reads only its own bar and earlier
        ones (the facts were admitted causal), which keeps the mask causal too.
        """
        try:
            return self._fact_arrays[name]
        except KeyError:
            raise self._unknown_fact(name) from None

    def closes(self, length: int, symbol: str | None = None, ago: int = 0) -> np.ndarray:
        """The last ``length`` closes of ``symbol``, ending ``ago`` bars before the current bar.

        A read-only view, shorter than ``length`` near the start of history.
        """
        start, end = self._span(length, ago)
        return self._series(symbol).close[start:end]

    def at(self, index: int) -> int:
        """Guard for code that addresses bars by absolute index: returns ``index`` if allowed.

        Raises LookAheadError for a bar after the current one, and for a negative index,
        which numpy would count from the end of the history, i.e. from the future.
        """
        if index > self.index:
            raise LookAheadError(f"look-ahead: bar {index} is after the current bar {self.index}")
        if index < 0:
            raise LookAheadError(
                f"look-ahead: bar {index} counts from the end of the history (the future); "
                f"address past bars as index - ago, or read them with ago"
            )
        return index

    @property
    def timestamp_ns(self) -> int:
        """The current bar's open time, integer nanoseconds since the epoch (UTC)."""
        if self.index < 0:
            raise PluginError("no current bar yet: the run has not started")
        return int(self._timestamps[self.index])

    @property
    def timestamp(self) -> datetime:
        """The current bar's open time."""
        return ns_to_datetime(self.timestamp_ns)
