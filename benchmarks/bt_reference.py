"""backtesting.py reference run for the SMA 10/30 crossover benchmark.

Usage: ``python benchmarks/bt_reference.py [--lib-crossover] <csv>``, where the CSV has the header
``timestamp,open,high,low,close,volume`` and ISO-8601 UTC timestamps. Prints one JSON object
on stdout: ``bars``, ``trades`` (closed trades), ``final_equity`` and ``engine_seconds``
(``Backtest.run`` alone). ``bench_backtest.py`` times this whole process.

The strategy follows the blueprint ``benchmarks/sma_cross_bench.yaml`` exactly, so trades and
equity can be compared: a cross is ``fast[i-1] <= slow[i-1] and fast[i] > slow[i]``, buys only
when flat, no order on the last bar. ``--lib-crossover`` runs the idiomatic backtesting.py version
instead (``backtesting.lib.crossover`` is strict, ``fast[i-1] < slow[i-1]``, so it misses a cross
through an exact tie, and ``buy()`` while long adds to the position): same speed, results may
differ.
"""

from __future__ import annotations

import os

# Set before backtesting imports tqdm (if installed): no progress bar on stderr.
os.environ.setdefault("TQDM_DISABLE", "1")

import inspect
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover

CASH = 100_000
FAST = 10
SLOW = 30
# backtesting 0.6 buys with 1 - eps of equity by default; the blueprint says 0.9999.
SIZE = 0.9999


def sma(values: npt.ArrayLike, n: int) -> npt.NDArray[np.float64]:
    """Simple moving average over ``n`` bars; NaN until ``n`` values exist."""
    return pd.Series(values).rolling(n).mean().to_numpy()


def crossed_above(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> bool:
    """``a[i-1] <= b[i-1] and a[i] > b[i]`` at the current bar ``i``; False while NaN."""
    return bool(a[-2] <= b[-2] and a[-1] > b[-1])


class SmaCross(Strategy):  # type: ignore[misc]
    fast = FAST
    slow = SLOW
    lib_crossover = False

    def init(self) -> None:
        self.sma_fast = self.I(sma, self.data.Close, self.fast, name=f"SMA{self.fast}")
        self.sma_slow = self.I(sma, self.data.Close, self.slow, name=f"SMA{self.slow}")
        # init() sees the whole data; next() sees it growing bar by bar.
        self.bars = len(self.data)

    def next(self) -> None:
        fast, slow = self.sma_fast, self.sma_slow
        if self.lib_crossover:
            if crossover(fast, slow):
                self.buy(size=SIZE)
            elif crossover(slow, fast):
                self.position.close()
        elif len(self.data) == self.bars:
            # No next bar to fill at (backtesting.py would fill at this bar's open).
            return
        elif not self.position:
            if crossed_above(fast, slow):
                self.buy(size=SIZE)
        elif crossed_above(slow, fast):
            self.position.close()


def read_bars(path: Path) -> pd.DataFrame:
    """Read the benchmark CSV into backtesting.py's layout (UTC index, Open..Volume)."""
    df = pd.read_csv(path)
    index = pd.to_datetime(df.pop("timestamp"), format="ISO8601", utc=True)
    df.index = pd.DatetimeIndex(index, name="timestamp")
    return df.rename(columns=str.capitalize)


def run(path: Path, *, lib_crossover: bool = False) -> dict[str, Any]:
    df = read_bars(path)
    options: dict[str, Any] = {
        "cash": CASH,
        "commission": 0,
        "exclusive_orders": False,
        "trade_on_close": False,
    }
    # simpletrader marks a position still open at the end to the last close and reports it as
    # open, not as a trade: so must the reference (closed trades only, equity marked to market).
    if "finalize_trades" in inspect.signature(Backtest.__init__).parameters:
        options["finalize_trades"] = False
    bt = Backtest(df, SmaCross, **options)
    started = time.perf_counter()
    stats = bt.run(lib_crossover=lib_crossover)
    engine_seconds = time.perf_counter() - started
    return {
        "bars": len(df),
        "trades": int(stats["# Trades"]),
        "final_equity": round(float(stats["Equity Final [$]"]), 6),
        "engine_seconds": round(engine_seconds, 6),
    }


def main(argv: list[str]) -> int:
    lib_crossover = "--lib-crossover" in argv
    paths = [arg for arg in argv if arg != "--lib-crossover"]
    if len(paths) != 1 or paths[0].startswith("-"):
        print("usage: bt_reference.py [--lib-crossover] <csv>", file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")
    print(json.dumps(run(Path(paths[0]), lib_crossover=lib_crossover)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
