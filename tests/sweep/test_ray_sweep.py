"""run_sweep on a local Ray started by the test: the same rows as backtests run alone."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pandas as pd
import pytest
import ray
from sweep_helpers import EXAMPLE, FAST, GRID, SLOW, alone_hashes, run_alone

from simpletrader.sweep import run_sweep
from simpletrader.sweep.walkforward import walk_forward

# A symbol the data does not have: the SMA fails when the run computes it.
SMA_SYMBOL = "workforce.context_worker.0.params.symbol"


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    # Started once for the module; a sweep joins an initialised Ray and leaves it running.
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    yield
    ray.shutdown()


def test_ray_gives_each_run_the_hash_of_the_backtest_run_alone() -> None:
    frame = run_sweep(EXAMPLE, GRID, backend="ray")
    assert frame.attrs["backend"] == "ray"
    assert frame["error"].isna().all()
    hashes = {(int(r[FAST]), int(r[SLOW])): r["run_hash"] for r in frame.to_dict("records")}
    assert hashes == alone_hashes()
    assert ray.is_initialized()


def test_ray_and_the_process_pool_give_identical_tables() -> None:
    on_ray = run_sweep(EXAMPLE, GRID, backend="ray", workers=2)
    on_pool = run_sweep(EXAMPLE, GRID, backend="process", workers=2)
    columns = [c for c in on_ray.columns if c != "seconds"]
    pd.testing.assert_frame_equal(on_ray[columns], on_pool[columns])


def test_failing_combination_on_ray_is_a_row_with_its_error() -> None:
    frame = run_sweep(EXAMPLE, {FAST: [10], SMA_SYMBOL: ["GOOG", "MSFT"]}, backend="ray")
    failed = frame[frame["error"].notna()]
    assert list(failed[SMA_SYMBOL]) == ["MSFT"]
    assert "MSFT" in failed["error"].iloc[0]
    assert math.isnan(failed["sharpe"].iloc[0])
    ok = frame[frame["error"].isna()]
    assert list(ok["run_hash"]) == [run_alone({FAST: 10, SMA_SYMBOL: "GOOG"})]


def test_walk_forward_on_ray_matches_the_process_pool() -> None:
    params = {FAST: [5, 10, 20]}
    on_ray = walk_forward(EXAMPLE, params, train="2y", test="1y", backend="ray")
    on_pool = walk_forward(EXAMPLE, params, train="2y", test="1y", backend="process", workers=1)
    assert list(on_ray.windows["run_hash"]) == list(on_pool.windows["run_hash"])
    assert on_ray.oos["final_equity"].iloc[0] == on_pool.oos["final_equity"].iloc[0]
