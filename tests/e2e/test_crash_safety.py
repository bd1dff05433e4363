"""A store-backed run killed with SIGKILL leaves every committed bar whole and nothing else.

Each test runs a real backtest in a subprocess and kills it for real: in the middle of a bar
(entries appended but not committed), in the middle of a bar's transaction (half its rows
inserted), or from outside at an arbitrary moment. The store must then open cleanly, verify,
hold exactly a prefix of the complete run's journal, and accept a new run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from crash_kit import check_killed_store, kill_inside_transaction, run_child
from simpletrader.backtest.engine import BacktestRun, run_backtest
from simpletrader.config.loader import load_blueprint
from simpletrader.ledger.store import RunStatus, Store

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "src" / "simpletrader" / "examples" / "sma_cross_goog.yaml"
BENCH = ROOT / "benchmarks" / "sma_cross_bench.yaml"

# Killed from inside at the 20th fill, committing every bar (as a live run does): entries of
# that bar are appended but not committed.
KILL_AT_FILL = """
import os, signal, sys
from simpletrader.backtest.engine import run_backtest
from simpletrader.config.loader import load_blueprint
from simpletrader.core.event_bus import EventBus
from simpletrader.journal.events import OrderFilled
from simpletrader.ledger.store import writer

writer.COMMIT_SECONDS = 0.0

fills = 0

def on_fill(event):
    global fills
    fills += 1
    if fills == 20:
        os.kill(os.getpid(), signal.SIGKILL)

bus = EventBus()
bus.subscribe(OrderFilled, on_fill)
run_backtest(load_blueprint(sys.argv[1]), store=sys.argv[2], bus=bus)
"""

# Killed inside SQLite's transaction: after the 3rd bar (row) of the 8th batch of bars, with
# batches of at least 40 entries (the first batch is the first bar alone).
KILL_MID_TRANSACTION = kill_inside_transaction(40, commits=7, rows=3)

# Announces the 10th fill on stdout and runs on; the parent kills it from outside.
ANNOUNCE_AND_RUN_ON = """
import sys
from simpletrader.backtest.engine import run_backtest
from simpletrader.config.loader import load_blueprint
from simpletrader.core.event_bus import EventBus
from simpletrader.journal.events import OrderFilled

fills = 0

def on_fill(event):
    global fills
    fills += 1
    if fills == 10:
        sys.stdout.write("running\\n")
        sys.stdout.flush()

bus = EventBus()
bus.subscribe(OrderFilled, on_fill)
blueprint = load_blueprint(sys.argv[1])
run_backtest(blueprint, store=sys.argv[2], bus=bus, data_overrides=(sys.argv[3],))
"""


@pytest.fixture(scope="module")
def complete() -> BacktestRun:
    """The same run, not killed: what every committed prefix must agree with."""
    return run_backtest(load_blueprint(EXAMPLE))


def test_a_run_killed_in_the_middle_of_a_bar_keeps_every_committed_bar(
    tmp_path: Path, complete: BacktestRun
) -> None:
    path = tmp_path / "killed.db"
    result = run_child(KILL_AT_FILL, str(EXAMPLE), str(path))
    assert result.returncode == -signal.SIGKILL, result.stderr
    kept = check_killed_store(path, complete)
    fills_kept = sum(
        1 for _, kind, _ in list(complete.journal.lines())[:kept] if kind == "order_filled"
    )
    assert fills_kept == 19  # the 20th fill's bar was in progress: none of it was committed


def test_a_run_killed_inside_a_bar_transaction_leaves_none_of_that_bar(
    tmp_path: Path, complete: BacktestRun
) -> None:
    path = tmp_path / "torn.db"
    result = run_child(KILL_MID_TRANSACTION, str(EXAMPLE), str(path))
    assert result.returncode == -signal.SIGKILL, result.stderr
    kept = check_killed_store(path, complete)
    assert kept >= 1 + 6 * 40  # every batch before the torn one


def test_a_store_killed_from_outside_opens_cleanly_and_takes_the_next_run(
    tmp_path: Path,
) -> None:
    csv = tmp_path / "walk.csv"
    write_random_walk(csv, 60_000)
    path = tmp_path / "outside.db"
    child = subprocess.Popen(
        [sys.executable, "-c", ANNOUNCE_AND_RUN_ON, str(BENCH), str(path), str(csv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "running\n"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=60)
    child.stdout.close()
    assert child.stderr is not None
    child.stderr.close()
    with Store(path) as store:
        (info,) = store.runs()
        assert info.status is RunStatus.RUNNING
        report = store.verify(info.run_id)
        assert report.ok, report.problems
        assert report.committed_bars > 0
    rerun = run_backtest(load_blueprint(BENCH), data_overrides=(str(csv),), store=path)
    with Store(path) as store:
        killed, finished = store.runs()
        assert finished.run_id == rerun.run_id
        assert finished.status is RunStatus.FINISHED
        assert store.verify(finished.run_id).ok
        # The re-run re-creates the killed run's orders under the same client order ids.
        before = store.rebuild_ledger(killed.run_id).orders
        assert before
        for order_id, order in before.items():
            assert rerun.ledger.orders[order_id].client_order_id == order.client_order_id


def test_identical_runs_give_identical_client_order_ids() -> None:
    first = run_backtest(load_blueprint(EXAMPLE))
    second = run_backtest(load_blueprint(EXAMPLE))
    ids = [o.client_order_id for o in first.ledger.orders.values()]
    assert ids == [o.client_order_id for o in second.ledger.orders.values()]
    assert len(set(ids)) == len(ids)
    for order in first.ledger.orders.values():
        assert order.client_order_id.startswith(order.group_id + "-")


def write_random_walk(path: Path, n: int) -> None:
    rng = np.random.default_rng(7)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    high = np.maximum(open_, close) * 1.0005
    low = np.minimum(open_, close) * 0.9995
    start = np.datetime64("2020-01-01T00:00:00")
    stamps = start + np.arange(n) * np.timedelta64(60, "s")
    with path.open("w") as handle:
        handle.write("timestamp,open,high,low,close,volume\n")
        for t, o, h, lo, c in zip(stamps, open_, high, low, close, strict=True):
            handle.write(f"{t}Z,{o:.4f},{h:.4f},{lo:.4f},{c:.4f},1000\n")
