"""Headline figures of a finished run, as the CLI's ``--json`` prints them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from simpletrader.backtest.engine import BacktestRun
from simpletrader.core.enums import TradePlanStatus
from simpletrader.journal.events import BatchEnded
from simpletrader.ledger.records import TradePlanRecord


def closed_trades(run: BacktestRun) -> list[TradePlanRecord]:
    """Trade plans that were opened, traded and closed (round trips)."""
    return [
        p
        for p in run.ledger.plans.values()
        if p.status is TradePlanStatus.CLOSED and p.traded_in > 0
    ]


def open_positions(run: BacktestRun) -> list[dict[str, Any]]:
    """Positions still open at the end, marked to the last close."""
    out = []
    for plan in run.ledger.plans.values():
        if plan.status is TradePlanStatus.ACTIVE and plan.net != 0:
            last = float(run.bars[plan.symbol].close[-1])
            unrealized = (last - float(plan.average_price)) * float(plan.net)
            out.append(
                {
                    "trade_plan_id": plan.trade_plan_id,
                    "symbol": plan.symbol,
                    "direction": str(plan.direction),
                    "quantity": str(plan.net),
                    "average_price": str(plan.average_price),
                    "mark_price": last,
                    "unrealized_pnl": round(unrealized, 2),
                }
            )
    return out


def batch_outcomes(run: BacktestRun) -> dict[str, dict[str, int]]:
    counts: Counter[tuple[str, str]] = Counter()
    for record in run.journal.records():
        if record["kind"] == BatchEnded.kind:
            counts[(record["mode"], record["status"])] += 1
    started: Counter[str] = Counter()
    for record in run.journal.records():
        if record["kind"] == "flow" and record["type"] == "ExecutionCommandBatch":
            started[record["dto"]["mode"]] += 1
    out = {}
    for mode in ("INDEPENDENT", "COORDINATED", "SEQUENTIAL"):
        done = {s.lower(): counts[(mode, s)] for s in ("COMPLETED", "PARTIAL", "FAILED")}
        done["open"] = started[mode] - sum(done.values())
        out[mode] = done
    return out


def summary(run: BacktestRun) -> dict[str, Any]:
    trades = closed_trades(run)
    ledger = run.ledger
    return {
        "run_id": run.run_id,
        "run_hash": run.run_hash,
        "blueprint": run.blueprint.name,
        "seed": run.seed,
        "start": run.start.isoformat(),
        "end": run.end.isoformat(),
        "bars": run.n_bars,
        "starting_cash": float(run.ledger.starting_cash),
        "final_equity": round(run.final_equity, 2),
        "trades": len(trades),
        "orders": len(ledger.orders),
        "fills": len(ledger.fills),
        "fees": float(ledger.fees),
        "realized_pnl": float(ledger.realized_pnl),
        "open_positions": open_positions(run),
        "batches": batch_outcomes(run),
        "journal_entries": len(run.journal),
    }
