"""run_sweep on the local process pool and in-process: rows, failures, outputs, Ctrl-C."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from sweep_helpers import EXAMPLE, FAST, GRID, SLOW, alone_hashes, run_alone

from simpletrader.core.errors import ConfigError
from simpletrader.sweep import METRICS, SweepInterrupted, run_sweep

DETECTOR_FAST = "workforce.signal_detector.0.params.fast"


@pytest.fixture(scope="module")
def alone() -> dict[tuple[int, int], str]:
    return alone_hashes()


def _hashes(frame: pd.DataFrame) -> dict[tuple[int, int], str]:
    return {(int(r[FAST]), int(r[SLOW])): r["run_hash"] for r in frame.to_dict("records")}


def test_process_pool_gives_each_run_the_hash_of_the_backtest_run_alone(
    alone: dict[tuple[int, int], str],
) -> None:
    frame = run_sweep(EXAMPLE, GRID, backend="process", workers=2)
    assert frame.attrs["backend"] == "process"
    assert len(frame) == 8
    assert frame["error"].isna().all()
    assert _hashes(frame) == alone
    assert sorted(frame["run"]) == list(range(8))


def test_one_worker_runs_in_process_with_the_same_rows(alone: dict[tuple[int, int], str]) -> None:
    frame = run_sweep(EXAMPLE, GRID, backend="process", workers=1)
    assert frame.attrs["backend"] == "local"
    assert _hashes(frame) == alone


def test_table_is_sorted_by_the_metric_with_its_columns() -> None:
    frame = run_sweep(EXAMPLE, {FAST: [5, 10, 20]}, workers=1, sort="total_return")
    assert list(frame.columns) == [
        "run",
        FAST,
        *METRICS,
        "bars",
        "run_hash",
        "error",
        "seconds",
    ]
    assert frame["total_return"].is_monotonic_decreasing
    assert (frame["bars"] == 2148).all()
    best = frame.iloc[0]
    assert math.isclose(best["final_equity"], 100_000 * (1 + best["total_return"]), abs_tol=0.01)


def test_failing_combination_is_a_row_with_its_error_and_the_sweep_goes_on() -> None:
    frame = run_sweep(
        EXAMPLE, {FAST: [10], DETECTOR_FAST: ["nope", "fast"]}, backend="process", workers=2
    )
    ok, failed = frame.iloc[0], frame.iloc[1]
    assert failed[DETECTOR_FAST] == "nope"
    assert "unknown fact 'nope'" in failed["error"]
    assert pd.isna(failed["run_hash"])
    assert all(math.isnan(failed[m]) for m in METRICS)
    assert pd.isna(ok["error"])
    assert ok["run_hash"] == run_alone({FAST: 10})


def test_invalid_path_is_rejected_before_anything_runs() -> None:
    calls: list[tuple[int, int]] = []
    with pytest.raises(ConfigError, match=r"no field 'perod'; valid: period, source, symbol"):
        run_sweep(
            EXAMPLE,
            {"workforce.context_worker.0.params.perod": [5]},
            workers=1,
            progress=lambda done, total: calls.append((done, total)),
        )
    assert calls == []


def test_one_invalid_grid_value_rejects_the_whole_sweep_before_it_runs() -> None:
    with pytest.raises(ConfigError, match=r"period=0: .*greater than or equal to 1 \(got 0\)"):
        run_sweep(EXAMPLE, {FAST: [5, 0]}, workers=1)


def test_unknown_sort_metric_lists_the_metrics() -> None:
    with pytest.raises(ConfigError, match="--sort 'profit' is not a metric; valid: total_return"):
        run_sweep(EXAMPLE, {FAST: [5]}, workers=1, sort="profit")


def test_output_needs_a_known_extension(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"use a name ending in \.parquet or \.csv"):
        run_sweep(EXAMPLE, {FAST: [5]}, workers=1, out=tmp_path / "table.xlsx")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_results_are_written_sorted(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"results{suffix}"
    params = {FAST: [5, 10], DETECTOR_FAST: ["fast", "nope"]}
    frame = run_sweep(EXAMPLE, params, workers=1, out=path)
    written = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    assert list(written["run"]) == list(frame["run"])
    assert list(written["run_hash"].fillna("")) == list(frame["run_hash"].fillna(""))
    assert written["error"].notna().sum() == 2


@pytest.mark.parametrize("workers", [1, 2])
def test_interrupt_keeps_the_finished_rows(tmp_path: Path, workers: int) -> None:
    path = tmp_path / "partial.csv"

    def ctrl_c_after_three(done: int, total: int) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as stopped:
        run_sweep(
            EXAMPLE,
            GRID,
            backend="process",
            workers=workers,
            out=path,
            progress=ctrl_c_after_three,
        )
    assert stopped.value.total == 8
    assert len(stopped.value.results) == 3
    assert stopped.value.results["run_hash"].notna().all()
    assert len(pd.read_csv(path)) == 3


def test_symbols_run_the_grid_once_per_symbol() -> None:
    frame = run_sweep(EXAMPLE, {FAST: [10]}, symbols=["GOOG_1d", "SPX"], workers=1)
    rows = {r["symbol"]: r for r in frame.to_dict("records")}
    assert set(rows) == {"GOOG", "SPX"}
    assert list(frame.columns[:3]) == ["run", "symbol", FAST]
    assert rows["GOOG"]["run_hash"] == run_alone({FAST: 10})
    spx = {"data.symbols.0": {"symbol": "SPX", "source": "SPX_1d"}, FAST: 10}
    assert rows["SPX"]["run_hash"] == run_alone(spx)
    assert rows["SPX"]["bars"] == 5031


def test_period_and_a_swept_seed_reach_every_run() -> None:
    frame = run_sweep(EXAMPLE, {"seed": [1, 2]}, start="2010-07-01", end="2010-12-31", workers=1)
    assert set(frame["seed"]) == {1, 2}
    assert frame["error"].isna().all()
    assert frame["bars"].nunique() == 1
    assert 120 < frame["bars"].iloc[0] < 130
    assert run_alone({"seed": 1}, start="2010-07-01", end="2010-12-31") in set(frame["run_hash"])
