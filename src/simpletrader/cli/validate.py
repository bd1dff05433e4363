"""``simpletrader validate``: check a blueprint without running it."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from simpletrader.cli.app import app, fail, out
from simpletrader.core.errors import ConfigError, SimpleTraderError


@dataclass
class Checked:
    """What a valid blueprint holds, for the report of ``validate``."""

    name: str
    symbols: dict[str, dict[str, Any]] = field(default_factory=dict)
    plugins: dict[str, list[str]] = field(default_factory=dict)
    policy: str = ""


def check_blueprint(
    path: Path,
    data: tuple[str, ...] = (),
    start: str | None = None,
    end: str | None = None,
) -> Checked:
    """Everything a run checks before its first bar, without running it.

    ``config.validate_blueprint`` (the schema with file and line, every plugin and its params,
    the planners' confidence ranges, the data sources found), then the data files loaded and
    validated, the policy's durations, and every context worker's facts checked causal.
    Raises the problems as a SimpleTraderError.
    """
    from simpletrader.backtest.engine import load_market_data, warmup_of
    from simpletrader.config import validate_blueprint
    from simpletrader.core.cache import StrategyCache
    from simpletrader.execution.factory import default_policy
    from simpletrader.pipeline.bootstrap import add_context

    blueprint = validate_blueprint(path, check_data_files=not data)
    checked = Checked(blueprint.name)
    workforce = blueprint.workforce
    for role, _, spec in workforce.specs():
        name = (
            spec.plugin
            if spec.instance_name == spec.plugin
            else f"{spec.instance_name} ({spec.plugin})"
        )
        checked.plugins.setdefault(role, []).append(name)
    bars, _, sources = load_market_data(blueprint, path.resolve().parent, data, start, end)
    primary = next(iter(bars.values()))
    policy = default_policy(blueprint, primary.timeframe_seconds or 60)
    timeout = f"timeout {policy.timeout_seconds} s" if policy.timeout_seconds else "no timeout"
    checked.policy = f"{policy.mode.value}, {timeout}"
    warmup = warmup_of(blueprint, primary, start)
    if warmup >= len(primary):
        raise ConfigError(
            f"data.warmup_bars: {warmup} leaves no bar to trade; the data has {len(primary)} bars"
        )
    add_context(StrategyCache(bars), workforce.context_worker, bars)
    for symbol, b in bars.items():
        # The period a backtest trades and reports: after the warm-up, as its summary shows it.
        checked.symbols[symbol] = {
            "source": sources[symbol],
            "bars": len(b) - warmup,
            "warmup_bars": warmup,
            "start": b.datetime_at(warmup).isoformat(),
            "end": b.datetime_at(-1).isoformat(),
            "bar_seconds": b.timeframe_seconds,
        }
    return checked


@app.command()
def validate(
    blueprint: Annotated[Path, typer.Argument(help="Blueprint YAML to check")],
    data: Annotated[
        list[str] | None,
        typer.Option("--data", help="Data file or bundled sample name, once per symbol"),
    ] = None,
    start: Annotated[str | None, typer.Option(help="First date, e.g. 2010-01-01")] = None,
    end: Annotated[
        str | None, typer.Option(help="Last date (inclusive: a date keeps that whole day)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks")] = False,
) -> None:
    """Check BLUEPRINT without running it.

    Schema, plugins and their params, confidence ranges, durations, data files and causal
    facts. Exit 0 when valid, else one error line and status 2.
    """
    try:
        checked = check_blueprint(blueprint, tuple(data or ()), start, end)
    except SimpleTraderError as exc:
        fail(str(exc), debug)
    except OSError as exc:
        fail(f"{exc.__class__.__name__}: {exc}", debug)
    if as_json:
        document = {
            "valid": True,
            "blueprint": checked.name,
            "symbols": checked.symbols,
            "plugins": checked.plugins,
            "policy": checked.policy,
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    out.print(
        f"[green]✓[/] {blueprint}: blueprint [bold]{checked.name}[/] is valid", highlight=False
    )
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="dim")
    table.add_column()
    for symbol, info in checked.symbols.items():
        table.add_row(
            symbol,
            f"{info['source']}: {info['bars']:,} bars{_after_warmup(info['warmup_bars'])}, "
            f"{info['start'][:10]} .. {info['end'][:10]}",
        )
    for role, names in checked.plugins.items():
        table.add_row(role, ", ".join(names))
    table.add_row("policy", checked.policy)
    out.print(table)


def _after_warmup(warmup: int) -> str:
    return f" (after {warmup:,} warm-up)" if warmup else ""
