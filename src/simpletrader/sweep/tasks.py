"""One sweep task: an ordinary deterministic backtest on market data loaded once, as a table row.

This is the code every runner executes, in a Ray worker, a pool process or the caller's own
process, so a task gives the same row (and ``run_hash``) wherever it runs.
"""

from __future__ import annotations

import logging
import math
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simpletrader.backtest.engine import run_backtest
from simpletrader.config.blueprint import Blueprint
from simpletrader.core.clock import ns_to_datetime
from simpletrader.data.bars import Bars
from simpletrader.data.instruments import Instrument
from simpletrader.sweep.metrics import METRICS, run_metrics

logger = logging.getLogger(__name__)

Market = tuple[dict[str, Bars], dict[str, Instrument], dict[str, str]]
"""What ``load_market_data`` returns: bars and instruments per symbol, and their sources."""

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SweepTask:
    """One backtest of a sweep.

    ``run`` numbers the task in grid order; ``labels`` (symbol, walk-forward window) and
    ``params`` ({path: value}) are copied into the row; ``keep_equity`` adds the equity curve to
    the row as ``equity``.

    ``window`` restricts the run to bars ``[lo, hi)`` of its market, with the ``warmup`` bars
    before ``lo`` in front as warm-up: the plain backtest of the window's dates, starting at bar
    ``lo``. Without a window the run is the blueprint's own. Either way the row (metrics,
    ``bars``, ``equity``) is what the backtest reports: its traded bars, warm-up left out.
    """

    run: int
    blueprint: Blueprint
    market_key: str
    params: Mapping[str, Any]
    labels: Mapping[str, Any] = field(default_factory=dict)
    window: tuple[int, int] | None = None
    warmup: int = 0
    keep_equity: bool = False


def market_key(blueprint: Blueprint) -> str:
    """Tasks whose blueprints read the same data (the whole ``data`` section: sources, period,
    timeframe, warm-up) share one loaded market."""
    return blueprint.data.model_dump_json()


def slice_market(market: Market, lo: int, hi: int) -> Market:
    """Bars ``[lo, hi)`` of every symbol (views of the same arrays, no copy)."""
    bars, instruments, sources = market
    return (
        {
            s: Bars(
                symbol=b.symbol,
                timestamps=b.timestamps[lo:hi],
                open=b.open[lo:hi],
                high=b.high[lo:hi],
                low=b.low[lo:hi],
                close=b.close[lo:hi],
                volume=b.volume[lo:hi],
                source=b.source,
                timeframe_seconds=b.timeframe_seconds,
            )
            for s, b in bars.items()
        },
        instruments,
        sources,
    )


def execute(task: SweepTask, market: Market) -> Row:
    """Run ``task`` on ``market`` and return its row; an exception becomes the row's ``error``
    (metrics NaN), so one failing combination never stops a sweep."""
    started = time.perf_counter()
    row: Row = {"run": task.run, **task.labels, **task.params}
    try:
        start = None
        if task.window is not None:
            lo, hi = task.window
            # The bars before the window's first are its warm-up, as before a backtest's start.
            start = ns_to_datetime(int(next(iter(market[0].values())).timestamps[lo])).isoformat()
            market = slice_market(market, lo - task.warmup, hi)
        run = run_backtest(task.blueprint, market=market, start=start, keep_journal=False)
        row.update(run_metrics(run))
        row["bars"] = run.n_bars
        row["run_hash"] = run.run_hash
        row["error"] = None
        if task.keep_equity:
            row["equity"] = np.array(run.equity_curve, dtype=np.float64)
    except Exception as exc:
        logger.debug("sweep run %d failed", task.run, exc_info=True)
        row.update(error_fields(exc))
    row["seconds"] = round(time.perf_counter() - started, 6)
    return row


def error_fields(exc: BaseException) -> Row:
    """The fields of a failed run's row: NaN metrics, no hash, the error as one line."""
    fields: Row = dict.fromkeys(METRICS, math.nan)
    fields.update(bars=None, run_hash=None, error=f"{type(exc).__name__}: {exc}")
    return fields


_WORKER_MARKETS: dict[str, Market] = {}


def init_pool_worker(markets: dict[str, Market]) -> None:
    """Process-pool initializer: keep the markets for every task this process runs.

    Ctrl-C reaches the whole process group; the parent decides what stops, so workers ignore it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_MARKETS.clear()
    _WORKER_MARKETS.update(markets)


def execute_in_pool(task: SweepTask) -> Row:
    """Run ``task`` on the market :func:`init_pool_worker` stored in this process."""
    return execute(task, _WORKER_MARKETS[task.market_key])
