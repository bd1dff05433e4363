"""``simpletrader runs``: the runs recorded in a store, with their headline figures."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from simpletrader.cli.app import app, fail, out
from simpletrader.core.errors import SimpleTraderError

if TYPE_CHECKING:
    from rich.console import JustifyMethod

    from simpletrader.ledger.store import RunInfo


def run_row(info: RunInfo) -> dict[str, Any]:
    """One run as ``runs --json`` prints it."""
    return {
        "run_id": info.run_id,
        "blueprint": info.blueprint_name,
        "seed": info.seed,
        "status": info.status.value,
        "start": info.period_start.isoformat(),
        "end": info.period_end.isoformat(),
        "bars": info.n_bars,
        "data": info.data_sources,
        "started_at": info.started_at.isoformat(),
        "finished_at": info.finished_at.isoformat() if info.finished_at else None,
        "committed_bars": info.committed_bars,
        "journal_entries": info.committed_entries,
        "run_hash": info.run_hash,
        "headline": info.headline,
        "error": info.error,
    }


def _figure(headline: dict[str, Any], key: str, fmt: str) -> str:
    value = headline.get(key)
    return "-" if value is None else format(value, fmt)


@app.command()
def runs(
    store: Annotated[Path, typer.Argument(help="The SQLite store runs were recorded in")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks")] = False,
) -> None:
    """List the runs in STORE: blueprint, seed, period and headline figures."""
    from simpletrader.ledger.store import RunStatus, Store

    try:
        with Store(store) as opened:
            infos = opened.runs()
    except SimpleTraderError as exc:
        fail(str(exc), debug)
    except OSError as exc:
        fail(f"{exc.__class__.__name__}: {exc}", debug)
    if as_json:
        sys.stdout.write(json.dumps([run_row(i) for i in infos], indent=2) + "\n")
        return
    table = Table(title=f"Runs in {store}", title_justify="left")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("run", "left"),
        ("blueprint", "left"),
        ("seed", "right"),
        ("period", "left"),
        ("bars", "right"),
        ("status", "left"),
        ("trades", "right"),
        ("final equity", "right"),
        ("return", "right"),
        ("max drawdown", "right"),
        ("fees", "right"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify)
    for info in infos:
        h = info.headline
        status = info.status.value
        if info.status is RunStatus.RUNNING:
            status = f"RUNNING or interrupted ({info.committed_bars} bars committed)"
        elif info.status is RunStatus.FAILED:
            status = f"FAILED: {info.error}"
        table.add_row(
            info.run_id,
            info.blueprint_name,
            str(info.seed),
            f"{info.period_start:%Y-%m-%d} .. {info.period_end:%Y-%m-%d}",
            f"{info.n_bars:,}",
            status,
            _figure(h, "trades", ","),
            _figure(h, "final_equity", ",.2f"),
            _figure(h, "total_return_pct", "+.2f") + ("%" if "total_return_pct" in h else ""),
            _figure(h, "max_drawdown_pct", ".2f") + ("%" if "max_drawdown_pct" in h else ""),
            _figure(h, "fees", ",.2f"),
        )
    if not infos:
        out.print(f"{store} holds no runs yet")
        return
    # In a pipe or a file rich would wrap to 80 columns; a run id alone takes 28.
    console = out if out.is_terminal else Console(width=200)
    console.print(table)
