"""``simpletrader backtest``: run a blueprint and print its summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from simpletrader.cli.app import app, fail, out
from simpletrader.core.errors import SimpleTraderError

DEFAULT_BLUEPRINT = Path(__file__).resolve().parent.parent / "examples" / "sma_cross_goog.yaml"


@app.command()
def backtest(
    blueprint: Annotated[
        Path | None, typer.Argument(help="Blueprint YAML (default: the bundled SMA cross on GOOG)")
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option("--data", help="Data file or bundled sample name, once per symbol"),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed (default: the blueprint's)")] = None,
    start: Annotated[str | None, typer.Option(help="First date, e.g. 2010-01-01")] = None,
    end: Annotated[str | None, typer.Option(help="Last date")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks")] = False,
) -> None:
    """Run a backtest of BLUEPRINT on its data (or --data) and print the summary."""
    from simpletrader.backtest.engine import run_backtest
    from simpletrader.backtest.summary import summary
    from simpletrader.config.loader import load_blueprint

    path = blueprint or DEFAULT_BLUEPRINT
    try:
        bp = load_blueprint(path)
        run = run_backtest(
            bp,
            base_dir=path.resolve().parent,
            data_overrides=tuple(data or ()),
            seed=seed,
            start=start,
            end=end,
        )
        result = summary(run)
    except SimpleTraderError as exc:
        fail(str(exc), debug)
    except OSError as exc:
        fail(f"{exc.__class__.__name__}: {exc}", debug)
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return
    if quiet:
        return
    table = Table(title=f"{result['blueprint']} — {result['start'][:10]} .. {result['end'][:10]}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("bars", "trades", "orders", "fills", "final_equity", "fees", "run_hash"):
        table.add_row(key, str(result[key]))
    out.print(table)
