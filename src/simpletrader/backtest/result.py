"""``Result``: a finished backtest as pandas tables, a metrics dict, a JSON summary and a report.

Tables are built on first access from the ledger's records (never from the journal), so a
million-bar run's summary costs milliseconds. Money is float in the tables (for analysis) and
Decimal in the ledger (the truth).
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from simpletrader.backtest.engine import BacktestRun
from simpletrader.backtest.metrics import (
    TradeColumns,
    buy_and_hold,
    compute_metrics,
    drawdown_of,
    excursions,
    exposure_of,
    returns_of,
)
from simpletrader.core.clock import ns_to_datetime
from simpletrader.core.enums import BatchExecutionMode, TradeDirection, TradePlanStatus
from simpletrader.data.samples import SAMPLE_NAMES, sample_path
from simpletrader.ledger.records import TradePlanRecord

MODES: tuple[str, ...] = tuple(m.value for m in BatchExecutionMode)
OUTCOMES: tuple[str, ...] = ("completed", "partial", "failed", "open")

TRADE_COLUMNS: tuple[str, ...] = (
    "trade_plan_id",
    "symbol",
    "direction",
    "status",
    "entry_time",
    "exit_time",
    "entry_price",
    "exit_price",
    "quantity",
    "net_quantity",
    "pnl",
    "realized_pnl",
    "unrealized_pnl",
    "fees",
    "return",
    "mae",
    "mfe",
    "bars_held",
    "duration",
)
ORDER_COLUMNS: tuple[str, ...] = (
    "order_id",
    "group_id",
    "symbol",
    "side",
    "order_type",
    "quantity",
    "filled_quantity",
    "limit_price",
    "stop_price",
    "time_in_force",
    "reduce_only",
    "status",
    "status_reason",
    "created_at",
    "updated_at",
)
FILL_COLUMNS: tuple[str, ...] = (
    "fill_id",
    "order_id",
    "symbol",
    "side",
    "quantity",
    "price",
    "fee",
    "fee_asset",
    "liquidity",
    "executed_at",
)
BATCH_COLUMNS: tuple[str, ...] = (
    "batch_id",
    "mode",
    "status",
    "reason",
    "failed_command_id",
    "ended_at",
)


def package_version() -> str:
    """The installed simpletrader version ("unknown" when run from a bare source tree)."""
    from importlib import metadata

    try:
        return metadata.version("simpletrader")
    except metadata.PackageNotFoundError:
        return "unknown"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def blueprint_hash(run: BacktestRun) -> str:
    """SHA-256 of the validated blueprint as canonical JSON: equal strategies hash alike,
    however their YAML was formatted."""
    canonical = json.dumps(
        run.blueprint.model_dump(mode="json"), sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _times(ns: npt.ArrayLike) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(ns, dtype=np.int64), unit="ns", utc=True))


def _f(value: Decimal | None) -> float:
    return math.nan if value is None else float(value)


@dataclass(frozen=True, slots=True)
class _Trades:
    """Every traded plan (closed round trips and open positions) as columns."""

    plans: list[TradePlanRecord]
    closed: npt.NDArray[np.bool_]
    columns: TradeColumns
    entry_index: npt.NDArray[np.int64]
    exit_index: npt.NDArray[np.int64]
    table: dict[str, npt.NDArray[Any]]
    """Per plan, the arrays the trades table is built from (only when asked for: the summary
    does not need a DataFrame)."""


class Result:
    """One finished backtest.

    Tables (pandas DataFrames, built on first access): :attr:`equity`, :attr:`trades`,
    :attr:`orders`, :attr:`fills`, :attr:`batches`. Figures: :attr:`metrics` (see
    ``simpletrader.backtest.metrics``), :attr:`open_positions`, :attr:`batch_outcomes`,
    :attr:`manifest`, and :meth:`summary` (what ``simpletrader backtest --json`` prints).
    Output files: :meth:`report` (HTML) and :meth:`plot` (PNG).

    All of them cover the traded period: the bars after the ``warmup_bars`` the run put in
    front (``data.warmup_bars``), on which context workers warmed up and nothing traded.
    """

    def __init__(self, run: BacktestRun) -> None:
        self.run = run
        self.bars = run.traded_bars
        """Per symbol, the bars of the traded period (``run.bars`` has the warm-up in front)."""
        primary = next(iter(self.bars.values()))
        self._timestamps = np.asarray(primary.timestamps, dtype=np.int64)
        self._bar_seconds = primary.timeframe_seconds or 60

    # -- headline ----------------------------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def run_hash(self) -> str:
        """Hash over the journal: identical runs (blueprint, data, seed) hash alike anywhere."""
        return self.run.run_hash

    @property
    def seed(self) -> int:
        return self.run.seed

    @property
    def name(self) -> str:
        return self.run.blueprint.name

    @property
    def warmup_bars(self) -> int:
        """Bars loaded in front of the traded period as warm-up (left out of every figure)."""
        return self.run.warmup

    @property
    def start(self) -> pd.Timestamp:
        """Open time of the first traded bar (UTC): ``data.start``'s bar, when given."""
        return pd.Timestamp(int(self._timestamps[0]), unit="ns", tz="UTC")

    @property
    def end(self) -> pd.Timestamp:
        """Open time of the last bar (UTC)."""
        return pd.Timestamp(int(self._timestamps[-1]), unit="ns", tz="UTC")

    @property
    def n_bars(self) -> int:
        """Bars traded (warm-up not counted)."""
        return len(self._timestamps)

    @property
    def starting_cash(self) -> float:
        return float(self.run.ledger.starting_cash)

    @property
    def final_equity(self) -> float:
        """Equity at the last close, open positions marked to it."""
        return self.run.final_equity

    def __repr__(self) -> str:
        m = self.metrics
        ret = m["total_return"]
        shown = "n/a" if ret is None else f"{ret:+.2%}"
        return (
            f"<Result {self.name} {self.start:%Y-%m-%d}..{self.end:%Y-%m-%d} {self.n_bars} bars, "
            f"{m['trades']} trades, return {shown}, final equity {self.final_equity:,.2f}>"
        )

    # -- tables ------------------------------------------------------------------------------------
    @cached_property
    def equity(self) -> pd.DataFrame:
        """Per traded bar (index: the bar's open time, UTC; no warm-up rows): ``equity`` at its
        close, ``returns`` (simple, the first against the starting cash) and ``drawdown``
        (<= 0)."""
        curve = self.run.equity_curve
        cash = self.starting_cash
        return pd.DataFrame(
            {
                "equity": curve,
                "returns": returns_of(curve, cash),
                "drawdown": drawdown_of(curve, cash),
            },
            index=_times(self._timestamps).rename("timestamp"),
        )

    @cached_property
    def _trades(self) -> _Trades:
        run = self.run
        plans = [p for p in run.ledger.plans.values() if p.traded_in > 0]
        ts = self._timestamps
        n = len(ts)
        bar_ns = self._bar_seconds * 1_000_000_000
        end_ns = int(ts[-1]) + bar_ns
        m = len(plans)
        closed = np.fromiter(
            (p.status is TradePlanStatus.CLOSED for p in plans), dtype=np.bool_, count=m
        )
        is_long = np.fromiter(
            (p.direction is TradeDirection.LONG for p in plans), dtype=np.bool_, count=m
        )
        entry_at = np.fromiter((p.entry_at or 0 for p in plans), dtype=np.int64, count=m)
        exit_at = np.fromiter(
            (
                p.exit_at if c and p.exit_at is not None else end_ns
                for p, c in zip(plans, closed, strict=True)
            ),
            dtype=np.int64,
            count=m,
        )
        entry_price = np.array([float(p.value_in / p.traded_in) for p in plans], dtype=np.float64)
        exit_price = np.array(
            [float(p.value_out / p.traded_out) if p.traded_out else math.nan for p in plans],
            dtype=np.float64,
        )
        multiplier = np.array(
            [float(run.instruments[p.symbol].multiplier) for p in plans], dtype=np.float64
        )
        last_close = np.array([float(self.bars[p.symbol].close[-1]) for p in plans])
        net = np.array([float(p.net) for p in plans], dtype=np.float64)
        avg_price = np.array([float(p.average_price) for p in plans], dtype=np.float64)
        realized = np.array([float(p.realized_pnl) for p in plans], dtype=np.float64)
        fees = np.array([float(p.fees) for p in plans], dtype=np.float64)
        value_in = np.array([float(p.value_in) for p in plans], dtype=np.float64)
        unrealized = np.where(closed, 0.0, (last_close - avg_price) * net * multiplier)
        pnl = realized + unrealized - fees
        with np.errstate(divide="ignore", invalid="ignore"):
            returns = pnl / (value_in * multiplier)
        entry_index = np.searchsorted(ts, entry_at, side="left").astype(np.int64)
        exit_index = np.where(closed, np.searchsorted(ts, exit_at, side="left"), n).astype(np.int64)
        # An open position's excursion runs to the last close; a closed one's to its exit.
        seen_exit = np.where(closed, exit_price, last_close)
        mae = np.full(m, math.nan)
        mfe = np.full(m, math.nan)
        symbols = np.array([p.symbol for p in plans], dtype=object)
        for symbol, bars in self.bars.items():
            rows = np.flatnonzero(symbols == symbol)
            if len(rows):
                mae[rows], mfe[rows] = excursions(
                    entry_index[rows],
                    exit_index[rows],
                    entry_price[rows],
                    seen_exit[rows],
                    is_long[rows],
                    np.asarray(bars.high),
                    np.asarray(bars.low),
                )
        holding_ns = exit_at - entry_at
        bars_held = exit_index - entry_index
        table = {
            "symbol": symbols,
            "entry_at": entry_at,
            "exit_at": exit_at,
            "entry_price": entry_price,
            "exit_price": exit_price,
            "net": net,
            "pnl": pnl,
            "realized": realized,
            "unrealized": unrealized,
            "fees": fees,
            "returns": returns,
            "mae": mae,
            "mfe": mfe,
            "bars_held": bars_held,
            "holding_ns": holding_ns,
        }
        columns = TradeColumns(
            pnl=pnl[closed],
            returns=returns[closed],
            mae=mae[closed],
            mfe=mfe[closed],
            holding_bars=bars_held[closed],
            holding_ns=holding_ns[closed],
        )
        return _Trades(plans, closed, columns, entry_index, exit_index, table)

    @cached_property
    def trades(self) -> pd.DataFrame:
        """One row per trade plan that traded, in order of entry: closed round trips
        (``status`` CLOSED) and positions still open at the end (OPEN, marked to the last close:
        ``unrealized_pnl``, no exit). ``pnl`` is net of fees; ``return`` is ``pnl`` over the
        entry value; ``mae``/``mfe`` are fractions of the entry price; ``quantity`` is the units
        bought (long) or sold (short) in all."""
        plans, closed, t = self._trades.plans, self._trades.closed, self._trades.table
        return pd.DataFrame(
            {
                "trade_plan_id": [p.trade_plan_id for p in plans],
                "symbol": t["symbol"].astype(str),
                "direction": [p.direction.value for p in plans],
                "status": np.where(closed, "CLOSED", "OPEN"),
                "entry_time": _times(t["entry_at"]),
                "exit_time": _times(t["exit_at"]).where(closed),
                "entry_price": t["entry_price"],
                "exit_price": t["exit_price"],
                "quantity": np.array([float(p.traded_in) for p in plans], dtype=np.float64),
                "net_quantity": t["net"],
                "pnl": t["pnl"],
                "realized_pnl": t["realized"],
                "unrealized_pnl": t["unrealized"],
                "fees": t["fees"],
                "return": t["returns"],
                "mae": t["mae"],
                "mfe": t["mfe"],
                "bars_held": t["bars_held"],
                "duration": pd.to_timedelta(t["holding_ns"], unit="ns"),
            },
            columns=list(TRADE_COLUMNS),
        )

    @cached_property
    def orders(self) -> pd.DataFrame:
        """Every order sent, in submission order."""
        records = list(self.run.ledger.orders.values())
        return pd.DataFrame(
            {
                "order_id": [o.order_id for o in records],
                "group_id": [o.group_id for o in records],
                "symbol": [o.symbol for o in records],
                "side": [o.side.value for o in records],
                "order_type": [o.order_type.value for o in records],
                "quantity": [float(o.quantity) for o in records],
                "filled_quantity": [float(o.filled_quantity) for o in records],
                "limit_price": [_f(o.limit_price) for o in records],
                "stop_price": [_f(o.stop_price) for o in records],
                "time_in_force": [o.time_in_force.value for o in records],
                "reduce_only": [o.reduce_only for o in records],
                "status": [o.status.value for o in records],
                "status_reason": [o.status_reason for o in records],
                "created_at": _times([o.created_at for o in records]),
                "updated_at": _times([o.updated_at for o in records]),
            },
            columns=list(ORDER_COLUMNS),
        )

    @cached_property
    def fills(self) -> pd.DataFrame:
        """Every fill, in execution order, with its order's symbol and side."""
        orders = self.run.ledger.orders
        records = self.run.ledger.fills
        return pd.DataFrame(
            {
                "fill_id": [f.fill_id for f in records],
                "order_id": [f.order_id for f in records],
                "symbol": [orders[f.order_id].symbol for f in records],
                "side": [orders[f.order_id].side.value for f in records],
                "quantity": [float(f.quantity) for f in records],
                "price": [float(f.price) for f in records],
                "fee": [float(f.fee) for f in records],
                "fee_asset": [f.fee_asset for f in records],
                "liquidity": [str(f.liquidity) for f in records],
                "executed_at": _times([f.executed_at for f in records]),
            },
            columns=list(FILL_COLUMNS),
        )

    @cached_property
    def batches(self) -> pd.DataFrame:
        """One row per batch: its mode, outcome (COMPLETED, PARTIAL, FAILED, or OPEN when it
        had not ended by the last bar), the reason of a failure, the failing command and when
        the batch ended."""
        ended = self.run.batch_log.ended
        still_open = self.run.open_batches
        return pd.DataFrame(
            {
                "batch_id": [e.batch_id for e in ended] + [b.batch_id for b in still_open],
                "mode": [e.mode.value for e in ended] + [b.mode.value for b in still_open],
                "status": [e.status.value for e in ended] + ["OPEN"] * len(still_open),
                "reason": [e.reason for e in ended] + [None] * len(still_open),
                "failed_command_id": [e.failed_command_id for e in ended]
                + [None] * len(still_open),
                "ended_at": _times([e.at for e in ended]).append(
                    pd.DatetimeIndex([pd.NaT] * len(still_open), tz="UTC")
                ),
            },
            columns=list(BATCH_COLUMNS),
        )

    # -- figures -----------------------------------------------------------------------------------
    @cached_property
    def metrics(self) -> dict[str, float | int | None]:
        """Every figure of ``simpletrader.backtest.metrics.METRIC_KEYS``; None where undefined."""
        trades = self._trades
        run = self.run
        return compute_metrics(
            run.equity_curve,
            self.starting_cash,
            self._timestamps,
            self._bar_seconds,
            trades.columns,
            exposure=exposure_of(trades.entry_index, trades.exit_index, self.n_bars),
            fees=float(run.ledger.fees),
            buy_and_hold_return=buy_and_hold([np.asarray(b.close) for b in self.bars.values()]),
        )

    @cached_property
    def open_positions(self) -> list[dict[str, Any]]:
        """Positions still open at the end, marked to the last close (JSON-ready)."""
        unrealized = self._trades.table["unrealized"]
        out = []
        for i, plan in enumerate(self._trades.plans):
            if self._trades.closed[i] or plan.net == 0:
                continue
            entry = ns_to_datetime(plan.entry_at) if plan.entry_at is not None else None
            out.append(
                {
                    "trade_plan_id": plan.trade_plan_id,
                    "symbol": plan.symbol,
                    "direction": plan.direction.value,
                    "quantity": str(plan.net),
                    "average_price": str(plan.average_price),
                    "mark_price": float(self.bars[plan.symbol].close[-1]),
                    "unrealized_pnl": round(float(unrealized[i]), 2),
                    "entry_time": entry.isoformat() if entry is not None else None,
                }
            )
        return out

    @cached_property
    def batch_outcomes(self) -> dict[str, dict[str, int]]:
        """Per mode: how many batches completed, ended partial, failed, or were still open."""
        counts: Counter[tuple[str, str]] = Counter()
        for (mode, status), count in self.run.batch_log.counts().items():
            counts[(mode.value, status.value.lower())] += count
        for batch in self.run.open_batches:
            counts[(batch.mode.value, "open")] += 1
        return {mode: {o: counts[(mode, o)] for o in OUTCOMES} for mode in MODES}

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """What reproduces this run: package version, seed, blueprint hash, data file hashes."""
        data: dict[str, dict[str, str]] = {}
        for symbol, source in self.run.data_sources.items():
            path = sample_path(source) if source in SAMPLE_NAMES else Path(source)
            data[symbol] = {"source": source, "sha256": file_sha256(path)}
        return {
            "simpletrader": package_version(),
            "python": platform.python_version(),
            "seed": self.seed,
            "blueprint": self.name,
            "blueprint_sha256": blueprint_hash(self.run),
            "data": data,
        }

    def summary(self) -> dict[str, Any]:
        """The run as one JSON-ready dict: what ``simpletrader backtest --json`` prints."""
        run = self.run
        ledger = run.ledger
        return {
            "run_id": run.run_id,
            "run_hash": run.run_hash,
            "blueprint": self.name,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "bars": self.n_bars,
            "warmup_bars": self.warmup_bars,
            "starting_cash": self.starting_cash,
            "final_equity": round(self.final_equity, 2),
            "trades": int(np.count_nonzero(self._trades.closed)),
            "orders": len(ledger.orders),
            "fills": len(ledger.fills),
            "fees": float(ledger.fees),
            "realized_pnl": float(ledger.realized_pnl),
            "open_positions": self.open_positions,
            "batches": self.batch_outcomes,
            "metrics": self.metrics,
            "manifest": self.manifest,
            "journal_entries": len(run.journal),
        }

    # -- files -------------------------------------------------------------------------------------
    def report(self, path: str | Path) -> Path:
        """Write the self-contained HTML report (needs the ``report`` extra: plotly) to
        ``path`` and return it. It works offline: plotly.js is inlined."""
        from simpletrader.backtest.report import write_report

        return write_report(self, Path(path))

    def plot(self, path: str | Path) -> Path:
        """Write a PNG of the equity curve and drawdown (needs the ``plot`` extra:
        matplotlib) to ``path`` and return it."""
        from simpletrader.backtest.plot import write_plot

        return write_plot(self, Path(path))

    # -- notebook ----------------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        from simpletrader.backtest.report import metrics_html

        return f"<p><b>{self.name}</b> {self.start:%Y-%m-%d} .. {self.end:%Y-%m-%d}</p>" + (
            metrics_html(self)
        )
