"""``run_sweep``: many backtests of one blueprint, one per grid point and symbol, as one table."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from simpletrader.sweep.grid import ParamAxis
from simpletrader.sweep.plan import BlueprintInput, load_markets, plan_sweep
from simpletrader.sweep.results import CsvAppender, check_out, check_sort, columns, to_frame
from simpletrader.sweep.results import write_table as _write_table
from simpletrader.sweep.runners import failed_row, open_runner
from simpletrader.sweep.tasks import Row, SweepTask, market_key

Progress = Callable[[int, int], None]
"""Called as ``progress(finished, total)`` at the start and after every finished run."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the sweep. ``results`` holds the runs that had finished (already written
    to ``out`` when one was given); ``total`` is how many runs the sweep had."""

    def __init__(self, results: pd.DataFrame, total: int) -> None:
        super().__init__(f"sweep interrupted after {len(results)} of {total} runs")
        self.results = results
        self.total = total


class RowCollector:
    """Gathers rows as they finish: progress, the incremental CSV, the final table."""

    def __init__(
        self, cols: Sequence[str], total: int, out: Path | None, progress: Progress | None
    ) -> None:
        self.cols = list(cols)
        self.total = total
        self.rows: list[Row] = []
        self._out = out
        self._progress = progress
        self._csv = (
            CsvAppender(out, cols) if out is not None and out.suffix.lower() == ".csv" else None
        )
        if progress is not None:
            progress(0, total)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        if self._csv is not None:
            self._csv.add(row)
        if self._progress is not None:
            self._progress(len(self.rows), self.total)

    def close(self) -> None:
        """Close the incremental CSV (what it holds so far stays)."""
        if self._csv is not None:
            self._csv.close()
            self._csv = None

    def finish(self, sort: str) -> pd.DataFrame:
        """The table sorted by ``sort``, written to ``out`` when one was given."""
        self.close()
        frame = to_frame(self.rows, self.cols, sort)
        if self._out is not None:
            _write_table(frame, self._out)
        return frame


def run_sweep(
    blueprint: BlueprintInput,
    params: Mapping[str, Any] | Iterable[ParamAxis] | None = None,
    *,
    random: int | None = None,
    seed: int = 0,
    symbols: Sequence[str] = (),
    data: Sequence[str] = (),
    start: str | None = None,
    end: str | None = None,
    base_dir: Path | None = None,
    backend: str = "auto",
    workers: int | None = None,
    ray_address: str | None = None,
    sort: str = "sharpe",
    out: str | Path | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Backtest ``blueprint`` once per grid point (and per symbol) and return the results table.

    ``blueprint``: a Blueprint or a YAML path. ``params``: ``{path: values}`` where a path is a
    dotted blueprint field (``workforce.context_worker.0.params.period``) and values a list, or
    the command line's text (``"10,20,30"``, ``"5:50:5"``). ``random``: run only that many
    distinct grid points drawn with ``seed``. ``symbols``: run everything once per symbol
    (bundled sample names, their symbols, ``SYMBOL=path`` or data files) instead of the
    blueprint's one symbol. ``data``/``start``/``end``: as ``simpletrader backtest``.
    ``backend``: ``auto`` (Ray if installed and ``workers`` != 1, else a process pool),
    ``ray`` or ``process``; ``workers``: parallel runs (default: the CPUs);
    ``ray_address``: join a Ray cluster (``auto`` or ``HOST:PORT``).

    Returns one row per run, best ``sort`` metric first (failed runs last, with ``error`` set):
    ``run``, ``symbol`` (with ``symbols``), one column per path, the metrics of
    :data:`simpletrader.sweep.metrics.METRICS`, ``bars``, ``run_hash``, ``error``, ``seconds``.
    ``out`` (``.parquet`` or ``.csv``) also writes it; CSV rows are appended as runs finish.
    Invalid paths or values raise ConfigError before anything runs; Ctrl-C raises
    :class:`SweepInterrupted` carrying the finished rows.
    """
    check_sort(sort)
    out_path = Path(out) if out is not None else None
    check_out(out_path)
    plan = plan_sweep(
        blueprint,
        params,
        random=random,
        seed=seed,
        symbols=symbols,
        data=data,
        start=start,
        end=end,
        base_dir=base_dir,
    )
    markets, failed = load_markets(v.blueprint for v in plan.variants)
    tasks: list[SweepTask] = []
    unloadable: list[Row] = []
    for run, variant in enumerate(plan.variants):
        key = market_key(variant.blueprint)
        labels = {"symbol": variant.symbol} if variant.symbol is not None else {}
        task = SweepTask(run, variant.blueprint, key, dict(variant.point), labels)
        if key in failed:
            unloadable.append(failed_row(task, failed[key]))
        else:
            tasks.append(task)
    collector = RowCollector(
        columns(plan.labels, plan.paths), len(plan.variants), out_path, progress
    )
    backend_name = backend
    try:
        for row in unloadable:
            collector.add(row)
        with open_runner(markets, backend, workers, ray_address) as runner:
            backend_name = runner.name
            for row in runner.run(tasks):
                collector.add(row)
    except KeyboardInterrupt:
        raise SweepInterrupted(collector.finish(sort), collector.total) from None
    except BaseException:
        collector.close()
        raise
    frame = collector.finish(sort)
    frame.attrs["backend"] = backend_name
    return frame
