"""``simpletrader sweep``: many backtests of one blueprint over a parameter grid and symbols.

Exit status: 0 when the sweep ran (some runs may have failed: see the ``error`` column), 1 when
every run failed, 2 for invalid input (nothing ran), 130 when interrupted (finished rows kept).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import JustifyMethod
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from simpletrader.cli.app import app, err, fail, out
from simpletrader.core.errors import SimpleTraderError

if TYPE_CHECKING:
    import pandas as pd

    from simpletrader.sweep.walkforward import WalkForwardResult

_METRIC_FORMAT: dict[str, Callable[[float], str]] = {
    "total_return": lambda v: f"{v:.2%}",
    "sharpe": lambda v: f"{v:.3f}",
    "max_drawdown": lambda v: f"{v:.2%}",
    "trades": lambda v: f"{int(v)}",
    "final_equity": lambda v: f"{v:,.2f}",
}


_TITLES = {
    "total_return": "return",
    "max_drawdown": "max dd",
    "final_equity": "equity",
    "run_hash": "run_hash",
    "train_sharpe": "train sharpe",
    "failed_windows": "failed",
    "test_start": "test from",
    "test_end": "test to",
    "train_total_return": "train return",
    "train_max_drawdown": "train max dd",
    "train_final_equity": "train equity",
}


def short_names(paths: Sequence[str]) -> dict[str, str]:
    """Column titles: the shortest dotted suffix (``params`` left out) that tells paths apart."""
    parts = {p: [s for s in p.split(".") if s != "params"] or [p] for p in paths}
    names = {}
    for path, segs in parts.items():
        for k in range(1, len(segs) + 1):
            suffix = segs[-k:]
            if all(other[-k:] != suffix for q, other in parts.items() if q != path):
                break
        names[path] = ".".join(suffix)
    return names


def _cell(value: Any, column: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    metric = column.removeprefix("train_")
    if metric in _METRIC_FORMAT and isinstance(value, int | float):
        return _METRIC_FORMAT[metric](float(value))
    if column == "run_hash":
        return str(value)[:8]
    if column.endswith(("start", "end")) and isinstance(value, str):
        return value[:10] if value.endswith("T00:00:00+00:00") else value[:16]
    return str(value)


def results_table(
    frame: pd.DataFrame, title: str, paths: Sequence[str], columns: Sequence[str], top: int
) -> Table:
    """A rich table of ``columns`` of the first ``top`` rows (0: all); paths get short titles.

    Cells never wrap (titles may), so a narrow terminal folds titles rather than numbers.
    """
    # A path's title breaks at its dots, so a narrow terminal stacks it instead of folding.
    titles = {**_TITLES, **{p: n.replace(".", "\n") for p, n in short_names(paths).items()}}
    shown = frame if top <= 0 else frame.head(top)
    cells = [[_cell(r.get(c), c) for c in columns] for r in shown.to_dict("records")]
    table = Table(title=title, title_justify="left")
    for k, column in enumerate(columns):
        justify: JustifyMethod = "left" if column in ("run_hash", "symbol") else "right"
        width = max((len(row[k]) for row in cells), default=1)
        title = titles.get(column) or column.replace("_", " ")
        table.add_column(title, justify=justify, overflow="fold", min_width=width)
    for row in cells:
        table.add_row(*row)
    if top > 0 and len(frame) > top:
        table.caption = f"best {top} of {len(frame)} runs; all of them with --top 0 or in --out"
    return table


def print_failures(frame: pd.DataFrame, paths: Sequence[str], limit: int = 10) -> None:
    """One line per failed run (its parameters and error), at most ``limit``."""
    failed = frame[frame["error"].notna()].sort_values("run")
    if failed.empty:
        return
    titles = short_names(paths)
    for record in failed.head(limit).to_dict("records"):
        where = ", ".join(f"{titles[p]}={record[p]}" for p in paths)
        label = f"{record['symbol']} " if "symbol" in record else ""
        err.print(
            f"[red]failed[/] run {record['run']} ({label}{where}): {record['error']}",
            highlight=False,
            markup=True,
        )
    if len(failed) > limit:
        err.print(f"... and {len(failed) - limit} more failed runs (see the error column)")


@app.command()
def sweep(
    blueprint: Annotated[Path, typer.Argument(help="Blueprint YAML to sweep")],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="PATH=V1,V2,... (YAML scalars) or PATH=START:STOP:STEP; PATH is a dotted "
            "blueprint field such as workforce.context_worker.0.params.period. Repeat per axis.",
        ),
    ] = None,
    random: Annotated[
        int | None, typer.Option("--random", help="Run N grid points drawn at random")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of --random")] = 0,
    symbols: Annotated[
        str | None,
        typer.Option(
            "--symbols",
            help="A,B,...: run everything once per symbol instead of the blueprint's one: "
            "bundled samples (GOOG_1d), their symbols (GOOG), SYMBOL=PATH or data files",
        ),
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option("--data", help="Data file or bundled sample name, once per symbol"),
    ] = None,
    start: Annotated[str | None, typer.Option(help="First date, e.g. 2010-01-01")] = None,
    end: Annotated[str | None, typer.Option(help="Last date")] = None,
    walk_forward: Annotated[
        str | None,
        typer.Option(
            "--walk-forward",
            help="TRAIN:TEST window lengths, in bars (500:100) or spans (2y:6m; y, m = months, "
            "w, d, h, min): pick the best parameters on each training window, report them out of "
            "sample",
        ),
    ] = None,
    sort: Annotated[
        str,
        typer.Option(
            help="Metric to rank by, best first: total_return, sharpe, max_drawdown, trades, "
            "final_equity"
        ),
    ] = "sharpe",
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write the table: results.parquet or results.csv"),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(help="auto (Ray if installed, else a process pool), ray or process"),
    ] = "auto",
    workers: Annotated[
        int | None, typer.Option(help="Parallel runs (default: the CPUs; 1 runs in-process)")
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="Join a Ray cluster: auto or HOST:PORT"),
    ] = None,
    top: Annotated[int, typer.Option(help="Rows to print (0: all)")] = 20,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or table")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks")] = False,
) -> None:
    """Backtest BLUEPRINT once per grid point (and symbol) in parallel; print and save the table."""
    from simpletrader.sweep import SweepInterrupted, parse_param, run_sweep
    from simpletrader.sweep.walkforward import parse_walk_forward
    from simpletrader.sweep.walkforward import walk_forward as run_walk_forward

    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        # No refresh thread: pool workers are forked while the bar is shown.
        auto_refresh=False,
        transient=True,
        disable=quiet,
    )
    bar = progress.add_task("runs", total=None)

    def advance(done: int, total: int) -> None:
        progress.update(bar, completed=done, total=total)
        progress.refresh()

    started = time.perf_counter()
    axes: list[Any] = []
    try:
        axes = [parse_param(p) for p in param or ()]
        chosen = [s for s in (symbols or "").split(",") if s.strip()]
        options: dict[str, Any] = {
            "random": random,
            "seed": seed,
            "symbols": chosen,
            "data": tuple(data or ()),
            "start": start,
            "end": end,
            "backend": backend,
            "workers": workers,
            "ray_address": ray_address,
            "sort": sort,
            "out": out_file,
            "progress": advance,
        }
        if walk_forward is not None:
            train, test = parse_walk_forward(walk_forward)
            with progress:
                result = run_walk_forward(blueprint, axes, train=train, test=test, **options)
            failed = int(result.windows["error"].notna().sum())
            runs = len(result.train) + int(result.windows["run_hash"].notna().sum())
            if not quiet:
                _print_walk_forward(result, blueprint.name, walk_forward, axes, sort)
                _report(runs, failed, "", started, out_file)
            if len(result.windows) and failed == len(result.windows):
                raise typer.Exit(1)
            return
        with progress:
            frame = run_sweep(blueprint, axes, **options)
        failed = int(frame["error"].notna().sum())
        if not quiet:
            paths = [a.path for a in axes]
            title = f"{blueprint.name}: {len(frame)} runs, best {sort} first"
            out.print(results_table(frame, title, paths, _sweep_columns(frame, paths), top))
            print_failures(frame, paths)
            _report(len(frame), failed, frame.attrs.get("backend", ""), started, out_file)
        if len(frame) and failed == len(frame):
            raise typer.Exit(1)
    except SweepInterrupted as stop:
        frame = stop.results
        if not quiet and len(frame):
            paths = [a.path for a in axes]
            columns = _sweep_columns(frame, paths)
            out.print(results_table(frame, "finished runs", paths, columns, top))
        saved = f"; finished rows in {out_file}" if out_file is not None else ""
        err.print(f"interrupted: {len(frame)} of {stop.total} runs finished{saved}")
        raise typer.Exit(130) from None
    except SimpleTraderError as exc:
        fail(str(exc), debug)
    except OSError as exc:
        fail(f"{exc.__class__.__name__}: {exc}", debug)


def _sweep_columns(frame: pd.DataFrame, paths: Sequence[str]) -> list[str]:
    """The columns worth printing (final equity says what return says; errors are listed
    below the table)."""
    from simpletrader.sweep.metrics import METRICS

    wanted = ["run", "symbol", *paths, *(m for m in METRICS if m != "final_equity"), "run_hash"]
    return [c for c in wanted if c in frame.columns]


def _print_walk_forward(
    result: WalkForwardResult, name: str, spec: str, axes: Sequence[Any], sort: str
) -> None:
    from simpletrader.sweep.metrics import METRICS

    windows = result.windows
    paths = [a.path for a in axes]
    wanted = [
        "symbol",
        "window",
        "test_start",
        "test_end",
        *paths,
        f"train_{sort}",
        *(m for m in METRICS if m != "final_equity"),
    ]
    title = f"{name}: walk-forward {spec}, the best {sort} per training window, out of sample"
    columns = [c for c in wanted if c in windows.columns]
    out.print(results_table(windows, title, paths, columns, 0))
    oos = result.oos
    summary = ["symbol", "windows", "failed_windows", "start", "end", *METRICS]
    columns = [c for c in summary if c in oos.columns]
    out.print(results_table(oos, "stitched out-of-sample", [], columns, 0))
    for record in windows[windows["error"].notna()].to_dict("records"):
        label = f"{record['symbol']} " if "symbol" in record else ""
        err.print(f"window {label}{record['window']}: {record['error']}", highlight=False)


def _report(runs: int, failed: int, backend: str, started: float, path: Path | None) -> None:
    where = f" on {backend}" if backend else ""
    saved = f"; table in {path}" if path is not None else ""
    problems = f", {failed} failed (see the error column)" if failed else ""
    err.print(f"{runs} runs{problems} in {time.perf_counter() - started:.1f} s{where}{saved}")
