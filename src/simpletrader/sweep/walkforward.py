"""Walk-forward analysis: pick parameters on a training window, judge them on the next one.

The period is cut into rolling windows: train ``[a, b)`` then test ``[b, c)``, each next window
starting one test length later, so the test windows tile the data after the first training
window (the last one ends with the data, so it may be shorter). On every window the whole grid
runs on the training bars; the best point by the sort metric (ties: grid order) then runs on the
test bars. Each run starts flat with the starting cash, with up to ``data.warmup_bars`` bars from
before its window in front as warm-up, as a plain backtest has them before its ``start``: workers
(indicators) see them, the strategy trades only inside the window, and the run's figures, ``bars``
and equity curve cover the window's bars alone. A window with less history before it (the first
one, unless ``data.start`` leaves bars before it) gets the bars there are. The period begins at
``data.start``: the bars loaded before it are warm-up, never part of a window. The test windows'
equity curves, chained (each starts where the previous ended), give the stitched out-of-sample
summary.

Lengths are bar counts (``500``) or calendar spans: ``2y`` years, ``6m`` months, ``3w`` weeks,
``10d`` days, ``12h`` hours, ``30min`` minutes; train and test use the same kind.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from simpletrader.backtest.engine import warmup_of
from simpletrader.config.blueprint import Blueprint
from simpletrader.core.clock import ns_to_datetime
from simpletrader.core.errors import ConfigError
from simpletrader.sweep.api import Progress, RowCollector, SweepInterrupted
from simpletrader.sweep.grid import ParamAxis
from simpletrader.sweep.metrics import METRICS, curve_metrics
from simpletrader.sweep.plan import BlueprintInput, Variant, load_markets, plan_sweep
from simpletrader.sweep.results import TAIL_COLUMNS, check_out, check_sort, columns, sort_frame
from simpletrader.sweep.results import write_table as _write_table
from simpletrader.sweep.runners import open_runner
from simpletrader.sweep.tasks import Market, Row, SweepTask, market_key

WindowLength = int | pd.DateOffset

_UNITS: tuple[str, ...] = ("y", "m", "mo", "w", "d", "h", "min")
_LENGTH = re.compile(r"^\s*(\d+)\s*([a-z]*)\s*$")


def parse_length(text: str) -> WindowLength:
    """``500`` (bars) or ``2y``/``6m``/``3w``/``10d``/``12h``/``30min`` (a calendar span)."""
    match = _LENGTH.match(text.lower())
    if match is None or match.group(2) not in ("", *_UNITS) or int(match.group(1)) <= 0:
        raise ConfigError(
            f"walk-forward length {text!r} is not understood; use a number of bars (500) or "
            f"a span: {', '.join(f'N{u}' for u in _UNITS)} (m = months)"
        )
    number, unit = int(match.group(1)), match.group(2)
    if not unit:
        return number
    if unit == "y":
        return pd.DateOffset(years=number)
    if unit in ("m", "mo"):
        return pd.DateOffset(months=number)
    if unit == "w":
        return pd.DateOffset(weeks=number)
    if unit == "d":
        return pd.DateOffset(days=number)
    if unit == "h":
        return pd.DateOffset(hours=number)
    return pd.DateOffset(minutes=number)


def parse_walk_forward(text: str) -> tuple[WindowLength, WindowLength]:
    """``TRAIN:TEST`` such as ``2y:6m`` or ``500:100``."""
    train, sep, test = text.partition(":")
    if not sep:
        raise ConfigError(f"--walk-forward {text!r}: expected TRAIN:TEST such as 2y:6m or 500:100")
    lengths = parse_length(train), parse_length(test)
    if isinstance(lengths[0], int) != isinstance(lengths[1], int):
        raise ConfigError(
            f"--walk-forward {text!r}: give both lengths in bars (500:100) or both as spans (2y:6m)"
        )
    return lengths


@dataclass(frozen=True, slots=True)
class Window:
    """Bar indexes of one window: train ``[train_start, test_start)``, test
    ``[test_start, test_end)``."""

    index: int
    train_start: int
    test_start: int
    test_end: int


def split_windows(
    timestamps_ns: npt.NDArray[np.int64],
    train: WindowLength,
    test: WindowLength,
    bar_seconds: int | None = None,
) -> list[Window]:
    """The rolling windows over the data; the last test window may be cut short by the data's
    end. Windows with fewer than 2 bars on either side are left out."""
    n = len(timestamps_ns)
    windows: list[Window] = []
    if isinstance(train, int) and isinstance(test, int):
        if train < 2:
            return []
        k = 0
        while k * test + train + 2 <= n:
            a = k * test
            windows.append(Window(k, a, a + train, min(n, a + train + test)))
            k += 1
        return windows
    if isinstance(train, int) or isinstance(test, int):
        raise ConfigError("walk-forward: give train and test both in bars or both as spans")
    first = pd.Timestamp(int(timestamps_ns[0]), tz="UTC")
    data_end = int(timestamps_ns[-1]) + (bar_seconds or 0) * 1_000_000_000
    k = 0
    while True:
        begin = first + test * k if k else first
        test_from = begin + train
        if test_from.value >= data_end:
            break
        test_to = test_from + test
        a, b, c = np.searchsorted(timestamps_ns, [begin.value, test_from.value, test_to.value])
        if b - a >= 2 and c - b >= 2:
            windows.append(Window(len(windows), int(a), int(b), int(c)))
        k += 1
    return windows


@dataclass(frozen=True, slots=True)
class WalkForwardResult:
    """``windows``: one row per (symbol,) window with its dates, the chosen parameters, their
    training score ``train_<sort>`` and their out-of-sample metrics, ``bars``, ``run_hash`` and
    ``error``. ``oos``: the stitched out-of-sample summary, one row per symbol. ``train``: every
    training run (a sweep table with a ``window`` column). ``equity``: the stitched
    out-of-sample equity curve, one row per test bar (``window``, ``timestamp`` UTC, ``equity``
    at its close), per symbol."""

    windows: pd.DataFrame
    oos: pd.DataFrame
    train: pd.DataFrame
    equity: pd.DataFrame


def walk_forward(
    blueprint: BlueprintInput,
    params: Mapping[str, Any] | Iterable[ParamAxis] | None = None,
    *,
    train: str | WindowLength,
    test: str | WindowLength,
    sort: str = "sharpe",
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
    out: str | Path | None = None,
    progress: Progress | None = None,
) -> WalkForwardResult:
    """Walk-forward analysis of ``blueprint`` over the grid of ``params``.

    ``train``/``test``: window lengths, bar counts or spans (``"2y"``, ``"6m"``, a
    ``pandas.DateOffset``). The other
    arguments are those of :func:`simpletrader.sweep.run_sweep`; parameters under ``data.``
    cannot be swept here (the windows cut one fixed data set). ``out`` writes the windows table
    (Parquet or CSV) and the training runs next to it as ``<name>.train<ext>``.
    """
    check_sort(sort)
    out_path = Path(out) if out is not None else None
    check_out(out_path)
    train_len = train if isinstance(train, pd.DateOffset) else parse_length(str(train))
    test_len = test if isinstance(test, pd.DateOffset) else parse_length(str(test))
    if isinstance(train_len, int) != isinstance(test_len, int):
        raise ConfigError("walk-forward: give train and test both in bars or both as spans")
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
    swept_data = [p for p in plan.paths if p.split(".")[0] == "data"]
    if swept_data:
        raise ConfigError(
            f"walk-forward cuts one data set into windows, so {swept_data[0]!r} cannot be swept"
        )
    markets, _ = load_markets(v.blueprint for v in plan.variants)
    by_symbol: dict[str | None, list[Variant]] = {}
    for variant in plan.variants:
        by_symbol.setdefault(variant.symbol, []).append(variant)
    windows: dict[str | None, list[Window]] = {}
    for symbol, variants in by_symbol.items():
        market = markets[market_key(variants[0].blueprint)]
        windows[symbol] = _windows_of(market, variants[0].blueprint, train_len, test_len)

    train_tasks: list[SweepTask] = []
    for symbol, variants in by_symbol.items():
        for window in windows[symbol]:
            for k, variant in enumerate(variants):
                train_tasks.append(
                    SweepTask(
                        len(train_tasks),
                        variant.blueprint,
                        market_key(variant.blueprint),
                        dict(variant.point),
                        {**_labels(symbol, window.index), "point": k},
                        (window.train_start, window.test_start),
                        _warmup(variant.blueprint, window.train_start),
                    )
                )
    n_windows = sum(len(w) for w in windows.values())
    train_cols = columns((*plan.labels, "window"), plan.paths)
    collector = RowCollector(train_cols, len(train_tasks) + n_windows, None, progress)
    test_rows: list[Row] = []
    try:
        with open_runner(markets, backend, workers, ray_address) as runner:
            for row in runner.run(train_tasks):
                collector.add(row)
            best = _best_points(collector.rows, sort)
            test_tasks: list[SweepTask] = []
            for symbol, variants in by_symbol.items():
                for window in windows[symbol]:
                    chosen = best.get((symbol, window.index))
                    if chosen is None:
                        continue
                    variant = variants[chosen]
                    test_tasks.append(
                        SweepTask(
                            len(test_tasks),
                            variant.blueprint,
                            market_key(variant.blueprint),
                            dict(variant.point),
                            {**_labels(symbol, window.index), "point": chosen},
                            (window.test_start, window.test_end),
                            _warmup(variant.blueprint, window.test_start),
                            keep_equity=True,
                        )
                    )
            # Windows where no training run gave a score have nothing to test.
            collector.total -= n_windows - len(test_tasks)
            for row in runner.run(test_tasks):
                test_rows.append(row)
                collector.add(row)
    except KeyboardInterrupt:
        finished = sort_frame(_frame(collector.rows, train_cols), sort)
        raise SweepInterrupted(finished, collector.total) from None
    # Training rows all arrive before the first test row: the phases run one after the other.
    train_rows = collector.rows[: len(train_tasks)]
    train_frame = sort_frame(_frame(train_rows, train_cols), sort)
    windows_frame = _windows_frame(
        plan.labels, plan.paths, sort, windows, markets, by_symbol, train_rows, test_rows
    )
    oos, equity = _stitched(plan.labels, windows, markets, by_symbol, test_rows)
    if out_path is not None:
        _write_table(windows_frame, out_path)
        _write_table(train_frame, out_path.with_name(f"{out_path.stem}.train{out_path.suffix}"))
    return WalkForwardResult(windows_frame, oos, train_frame, equity)


def _labels(symbol: str | None, window: int) -> dict[str, Any]:
    return {"window": window} if symbol is None else {"symbol": symbol, "window": window}


def _history(market: Market, blueprint: Blueprint) -> int:
    """The bars loaded before ``data.start``: the warm-up ``load_market_data`` put in front of
    the period, which no window may trade."""
    if blueprint.data.start is None:
        return 0
    return warmup_of(blueprint, next(iter(market[0].values())))


def _warmup(blueprint: Blueprint, window_start: int) -> int:
    """Warm-up bars of a window starting at bar ``window_start``: ``data.warmup_bars``, or the
    bars there are before it."""
    return min(blueprint.data.warmup_bars, window_start)


def _windows_of(
    market: Market, blueprint: Blueprint, train: WindowLength, test: WindowLength
) -> list[Window]:
    primary = next(iter(market[0].values()))
    history = _history(market, blueprint)
    stamps = primary.timestamps[history:]
    n = len(stamps)
    found = [
        Window(w.index, w.train_start + history, w.test_start + history, w.test_end + history)
        for w in (split_windows(stamps, train, test, primary.timeframe_seconds) if n else ())
    ]
    if not found:
        span = ""
        if n:
            first = ns_to_datetime(int(stamps[0])).date()
            span = f" ({first} .. {ns_to_datetime(int(stamps[-1])).date()})"
        raise ConfigError(
            f"walk-forward: {primary.source} has {n} bars{span}, too few for one training "
            f"window followed by one test window; shorten them"
        )
    return found


def _frame(rows: Sequence[Row], cols: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=list(cols))


def _best_points(rows: Sequence[Row], sort: str) -> dict[tuple[str | None, int], int]:
    """Per (symbol, window): the grid point with the best finite ``sort`` (ties: grid order)."""
    best: dict[tuple[str | None, int], tuple[float, int]] = {}
    for row in rows:
        score = row.get(sort)
        if row.get("error") is not None or score is None or math.isnan(score):
            continue
        key = (row.get("symbol"), int(row["window"]))
        point = int(row["point"])
        current = best.get(key)
        if current is None or score > current[0] or (score == current[0] and point < current[1]):
            best[key] = (float(score), point)
    return {key: point for key, (_, point) in best.items()}


def _iso(market: Market, index: int) -> str:
    primary = next(iter(market[0].values()))
    return ns_to_datetime(int(primary.timestamps[index])).isoformat()


def _windows_frame(
    labels: Sequence[str],
    paths: Sequence[str],
    sort: str,
    windows: Mapping[str | None, Sequence[Window]],
    markets: Mapping[str, Market],
    by_symbol: Mapping[str | None, Sequence[Variant]],
    train_rows: Sequence[Row],
    test_rows: Sequence[Row],
) -> pd.DataFrame:
    scores = {
        (r.get("symbol"), int(r["window"]), int(r["point"])): r.get(sort)
        for r in train_rows
        if "point" in r and r.get("error") is None
    }
    tested = {(r.get("symbol"), int(r["window"])): r for r in test_rows}
    cols = [
        *labels,
        "window",
        "train_start",
        "train_end",
        "test_start",
        "test_end",
        *paths,
        f"train_{sort}",
        *TAIL_COLUMNS,
    ]
    out = []
    for symbol, variants in by_symbol.items():
        market = markets[market_key(variants[0].blueprint)]
        for window in windows[symbol]:
            row: Row = {"symbol": symbol, "window": window.index}
            row["train_start"] = _iso(market, window.train_start)
            row["train_end"] = _iso(market, window.test_start - 1)
            row["test_start"] = _iso(market, window.test_start)
            row["test_end"] = _iso(market, window.test_end - 1)
            result = tested.get((symbol, window.index))
            if result is None:
                row["error"] = "no training run gave a finite " + sort
            else:
                row.update({k: v for k, v in result.items() if k in (*paths, *TAIL_COLUMNS)})
                row[f"train_{sort}"] = scores.get((symbol, window.index, int(result["point"])))
            out.append(row)
    return _frame(out, cols)


def _stitched(
    labels: Sequence[str],
    windows: Mapping[str | None, Sequence[Window]],
    markets: Mapping[str, Market],
    by_symbol: Mapping[str | None, Sequence[Variant]],
    test_rows: Sequence[Row],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per symbol: the test windows' equity curves chained, and their metrics; the chained
    curves, one row per bar."""
    tested = {(r.get("symbol"), int(r["window"])): r for r in test_rows}
    out = []
    curves: list[pd.DataFrame] = []
    for symbol, variants in by_symbol.items():
        blueprint = variants[0].blueprint
        cash = float(blueprint.account.starting_cash)
        primary = next(iter(markets[market_key(blueprint)][0].values()))
        level = cash
        pieces: list[npt.NDArray[np.float64]] = []
        stamps: list[npt.NDArray[np.int64]] = []
        numbers: list[npt.NDArray[np.int64]] = []
        trades = 0
        failed = 0
        for window in windows[symbol]:
            row = tested.get((symbol, window.index))
            if row is None or row.get("error") is not None or row.get("equity") is None:
                failed += 1
                continue
            curve = np.asarray(row["equity"], dtype=np.float64) / cash * level
            pieces.append(curve)
            stamps.append(primary.timestamps[window.test_start : window.test_end])
            numbers.append(np.full(len(curve), window.index, dtype=np.int64))
            level = float(curve[-1])
            trades += int(row["trades"])
        summary: Row = {"symbol": symbol} if labels else {}
        summary.update(windows=len(windows[symbol]), failed_windows=failed)
        if pieces:
            equity = np.concatenate(pieces)
            ts = np.concatenate(stamps)
            summary["start"] = ns_to_datetime(int(ts[0])).isoformat()
            summary["end"] = ns_to_datetime(int(ts[-1])).isoformat()
            summary.update(curve_metrics(equity, ts, cash, trades))
            curve_frame = pd.DataFrame(
                {
                    "window": np.concatenate(numbers),
                    "timestamp": pd.to_datetime(ts, utc=True),
                    "equity": equity,
                }
            )
            if labels:
                curve_frame.insert(0, "symbol", symbol)
            curves.append(curve_frame)
        else:
            summary.update(dict.fromkeys(("start", "end"), None))
            summary.update(dict.fromkeys(METRICS, math.nan))
        out.append(summary)
    cols = [*labels, "windows", "failed_windows", "start", "end", *METRICS]
    curve_cols = [*labels, "window", "timestamp", "equity"]
    equity_frame = (
        pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=curve_cols)
    )
    return _frame(out, cols), equity_frame
