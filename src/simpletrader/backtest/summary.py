"""The run's headline figures, as JSON (``--json``) and as labelled rows for the terminal table
and the HTML report (one place decides labels, units and formats)."""

from __future__ import annotations

from typing import Any

from simpletrader.backtest.engine import BacktestRun
from simpletrader.backtest.result import Result
from simpletrader.core.enums import TradePlanStatus
from simpletrader.ledger.records import TradePlanRecord

Rows = list[tuple[str, list[tuple[str, str]]]]


def closed_trades(run: BacktestRun) -> list[TradePlanRecord]:
    """Trade plans that were opened, traded and closed (round trips)."""
    return [
        p
        for p in run.ledger.plans.values()
        if p.status is TradePlanStatus.CLOSED and p.traded_in > 0
    ]


def summary(run: BacktestRun) -> dict[str, Any]:
    """What ``simpletrader backtest --json`` prints (see docs/cli.md)."""
    return Result(run).summary()


def percent(value: float | int | None, *, signed: bool = True) -> str:
    """A fraction as a percentage with two decimals (or two significant digits when smaller,
    so a tiny average trade does not read as 0.00 %)."""
    if value is None:
        return "–"
    pct = value * 100
    sign = "+" if signed else ""
    if 0 < abs(pct) < 0.005:
        return f"{pct:{sign}.2g} %"
    return f"{pct:{sign}.2f} %"


def number(value: float | int | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def duration(days: float | int | None) -> str:
    """Days as the largest sensible unit: ``3.2 d``, ``5.0 h``, ``12 min``."""
    if days is None:
        return "–"
    if days >= 1:
        return f"{days:,.1f} d"
    if days * 24 >= 1:
        return f"{days * 24:.1f} h"
    return f"{days * 1440:.0f} min"


def summary_rows(result: Result) -> Rows:
    """Sections of (label, formatted value): returns, risk, trades, costs, run."""
    m = result.metrics
    money = result.run.blueprint.account.currency
    open_count = len(result.open_positions)
    dd_bars = m["max_drawdown_duration_bars"]
    bars = f"{result.n_bars:,}"
    if result.warmup_bars:
        bars += f" (after {result.warmup_bars:,} warm-up)"
    return [
        (
            "Returns",
            [
                ("Final equity", f"{result.final_equity:,.2f} {money}"),
                ("Total return", percent(m["total_return"])),
                ("CAGR", percent(m["cagr"])),
                ("Buy & hold return", percent(m["buy_and_hold_return"])),
                ("Volatility (annual)", percent(m["volatility"], signed=False)),
                ("Sharpe ratio", number(m["sharpe"])),
                ("Sortino ratio", number(m["sortino"])),
                ("Calmar ratio", number(m["calmar"])),
            ],
        ),
        (
            "Risk",
            [
                ("Max drawdown", percent(m["max_drawdown"])),
                (
                    "Max drawdown duration",
                    f"{duration(m['max_drawdown_duration_days'])} ({dd_bars:,} bars)",
                ),
                ("Exposure (time in market)", percent(m["exposure"], signed=False)),
            ],
        ),
        (
            "Trades",
            [
                ("Closed trades", str(m["trades"])),
                ("Open positions (marked to market)", str(open_count)),
                ("Win rate", percent(m["win_rate"], signed=False)),
                ("Profit factor", number(m["profit_factor"])),
                (
                    "Average trade",
                    f"{number(m['avg_trade_pnl'])} {money} ({percent(m['avg_trade_return'])})",
                ),
                (
                    "Best / worst trade",
                    f"{percent(m['best_trade_return'])} / {percent(m['worst_trade_return'])}",
                ),
                ("Average MAE / MFE", f"{percent(m['avg_mae'])} / {percent(m['avg_mfe'])}"),
                (
                    "Average holding time",
                    f"{duration(m['avg_holding_days'])} ({number(m['avg_holding_bars'], 1)} bars)",
                ),
            ],
        ),
        (
            "Costs",
            [("Fees", f"{number(m['fees'])} {money}")],
        ),
        (
            "Run",
            [
                ("Bars", bars),
                ("Bars per year (from the data)", number(m["periods_per_year"], 1)),
                ("Seed", str(result.seed)),
                ("Run hash", result.run_hash),
            ],
        ),
    ]
