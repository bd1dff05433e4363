"""Recording a backtest in a store: what the engine calls before and after its loop."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from pydantic import BaseModel

from simpletrader.core.enums import TradePlanStatus
from simpletrader.ledger.ledger import Ledger
from simpletrader.ledger.store.sqlite import FactSource, RunWriter, Store

if TYPE_CHECKING:
    from simpletrader.data.bars import Bars


class _HasMultiplier(Protocol):
    @property
    def multiplier(self) -> Decimal: ...


def start_recording(
    path: str | Path,
    *,
    run_id: str,
    blueprint: BaseModel,
    blueprint_name: str,
    seed: int,
    data_sources: Mapping[str, str],
    instruments: Mapping[str, _HasMultiplier],
    starting_cash: Decimal,
    bars: Mapping[str, Bars],
    facts: FactSource | None,
    commit_seconds: float | None = None,
) -> RunWriter:
    """Open (or create) the store at ``path``, record the run, return its journal sink.

    The sink owns the store: its ``finish``/``fail`` close the file. It commits whole bars
    at least every ``commit_seconds`` (default :data:`~.writer.COMMIT_SECONDS`; 0: every bar).
    """
    store = Store(path, create=True)
    try:
        writer = store.begin_run(
            run_id=run_id,
            blueprint_name=blueprint_name,
            blueprint=blueprint.model_dump_json(),
            seed=seed,
            data_sources=data_sources,
            starting_cash=starting_cash,
            multipliers={s: i.multiplier for s, i in instruments.items()},
            bars=bars,
            facts=facts,
            commit_seconds=commit_seconds,
        )
    except BaseException:
        store.close()
        raise
    writer.owns_store = True
    return writer


def headline_figures(ledger: Ledger, journal_entries: int) -> dict[str, Any]:
    """The figures ``simpletrader runs`` lists, computed from the ledger in milliseconds."""
    curve = ledger.equity_curve
    start = float(ledger.starting_cash)
    final = float(curve[-1]) if len(curve) and np.isfinite(curve[-1]) else float(ledger.cash)
    drawdown = 0.0
    if len(curve):
        marked = curve[np.isfinite(curve)]
        if len(marked):
            peaks = np.maximum.accumulate(marked)
            drawdown = float(np.min(marked / peaks - 1.0))
    trades = sum(
        1 for p in ledger.plans.values() if p.status is TradePlanStatus.CLOSED and p.traded_in > 0
    )
    return {
        "final_equity": round(final, 2),
        "total_return_pct": round((final / start - 1.0) * 100.0, 4),
        "max_drawdown_pct": round(drawdown * 100.0, 4),
        "trades": trades,
        "orders": len(ledger.orders),
        "fills": len(ledger.fills),
        "fees": float(ledger.fees),
        "realized_pnl": float(ledger.realized_pnl),
        "journal_entries": journal_entries,
    }
