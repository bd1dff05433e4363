"""``simpletrader backtest``: run a blueprint, show its summary, write the report and plot."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from simpletrader.cli.app import app, err, fail, out
from simpletrader.core.errors import SimpleTraderError

if TYPE_CHECKING:
    from simpletrader.backtest.result import Result


class BarsPerSecond(ProgressColumn):
    """The run's speed in bars per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} bars/s", style="cyan")


class ProgressBar:
    """The engine's ``progress(done, total)`` callback: a rich bar on stderr that appears only
    once a run has lasted ``delay`` seconds, so short runs print nothing.

    The engine calls it about a hundred times per run, so its cost is negligible.
    """

    def __init__(
        self, console: Console, delay: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.console = console
        self.delay = delay
        self.clock = clock
        self.started = clock()
        self.progress: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.progress is None:
            if self.clock() - self.started < self.delay or done >= total:
                return
            self.progress = Progress(
                TextColumn("backtest"),
                BarColumn(),
                MofNCompleteColumn(),
                BarsPerSecond(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
                get_time=self.clock,
            )
            self.progress.start()
            self.task = self.progress.add_task("backtest", total=total, completed=done)
        if self.task is not None:
            self.progress.update(self.task, completed=done)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def render_summary(result: Result, console: Console) -> None:
    """The terminal summary: metrics by section, batch outcomes per mode, open positions."""
    from simpletrader.backtest.summary import summary_rows

    symbols = ", ".join(result.run.bars)
    table = Table(
        title=(
            f"{result.name} — {symbols} {result.start:%Y-%m-%d} .. {result.end:%Y-%m-%d} "
            f"({result.n_bars:,} bars)"
        ),
        title_justify="left",
        show_header=False,
        box=None,
        padding=(0, 2),
    )
    table.add_column("metric", style="dim")
    table.add_column("value", justify="right")
    for i, (section, rows) in enumerate(summary_rows(result)):
        if i:
            table.add_row("", "")
        table.add_row(Text(section, style="bold"), "")
        for label, value in rows:
            table.add_row(label, value)
    console.print(table)

    batches = Table(title="Batch outcomes", title_justify="left", box=None, padding=(0, 2))
    batches.add_column("mode")
    for outcome in ("completed", "partial", "failed", "open"):
        batches.add_column(outcome, justify="right")
    for mode, counts in result.batch_outcomes.items():
        batches.add_row(mode, *(str(counts[k]) for k in ("completed", "partial", "failed", "open")))
    console.print(batches)

    if result.open_positions:
        positions = Table(
            title="Open at the end (marked to the last close)",
            title_justify="left",
            box=None,
            padding=(0, 2),
        )
        for name in ("symbol", "direction", "quantity", "average price", "mark", "unrealized"):
            positions.add_column(
                name, justify="left" if name in ("symbol", "direction") else "right"
            )
        for p in result.open_positions:
            positions.add_row(
                p["symbol"],
                p["direction"],
                p["quantity"],
                p["average_price"],
                f"{p['mark_price']:,.4g}",
                f"{p['unrealized_pnl']:,.2f}",
            )
        console.print(positions)


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
    end: Annotated[
        str | None,
        typer.Option(help="Last date (inclusive: a date keeps that whole day), e.g. 2011-12-31"),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the HTML report here (extra: report)")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write an equity/drawdown PNG here (extra: plot)")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON (docs/cli.md)")
    ] = False,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Record the run in this SQLite store (see `explain`)"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks")] = False,
) -> None:
    """Run a backtest of BLUEPRINT on its data (or --data) and print the summary."""
    from simpletrader.backtest.api import DEFAULT_BLUEPRINT
    from simpletrader.backtest.api import backtest as run

    path = blueprint or DEFAULT_BLUEPRINT
    # Only on a terminal: in a log or a pipe a progress bar is noise.
    bar = ProgressBar(err) if err.is_terminal and not quiet else None
    try:
        try:
            result = run(
                path,
                data=tuple(data or ()) or None,
                seed=seed,
                start=start,
                end=end,
                progress=bar,
                store=store,
                keep_journal=False,  # the command prints and exits: nothing reads it back
            )
        finally:
            if bar is not None:
                bar.close()
        written = []
        if report is not None:
            written.append(("report", result.report(report)))
        if plot is not None:
            written.append(("plot", result.plot(plot)))
        summary = result.summary() if as_json else None
    except SimpleTraderError as exc:
        fail(str(exc), debug)
    except OSError as exc:
        fail(f"{exc.__class__.__name__}: {exc}", debug)
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None
    if summary is not None:
        # Wall time, so not in Result.summary(), which identical runs give identically.
        summary["engine_seconds"] = round(result.run.engine_seconds, 3)
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    if quiet:
        return
    render_summary(result, out)
    for what, where in written:
        out.print(f"{what}: {where}", highlight=False)
