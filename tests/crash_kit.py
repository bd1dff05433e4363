"""What the crash tests share: a child process to kill, and the check of the store it leaves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from simpletrader.backtest.engine import BacktestRun
from simpletrader.journal.explain import explain
from simpletrader.ledger.store import RunStatus, Store

ROOT = Path(__file__).parents[1]


def run_child(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -c script args...`` in the repository root, output captured, never raising."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )


def kill_inside_transaction(entries: int, commits: int, rows: int) -> str:
    """A child script that records ``argv[1]`` into the store ``argv[2]``, committing every
    ``entries`` entries (never by time), and SIGKILLs itself inside the transaction after
    ``commits`` transactions of bars, once it has inserted ``rows`` rows of the next."""
    return f"""
import os, signal, sys
from simpletrader.backtest.engine import run_backtest
from simpletrader.config.loader import load_blueprint
from simpletrader.ledger.store import sqlite as store_sqlite, writer

writer.COMMIT_SECONDS = float("inf")
writer.COMMIT_ENTRIES = {entries}
connect = store_sqlite.Store._connect
state = {{"commits": 0, "rows": 0}}

def trace(statement):
    if statement.startswith("INSERT INTO bars"):
        state["rows"] += 1
        if state["commits"] == {commits} and state["rows"] == {rows}:
            os.kill(os.getpid(), signal.SIGKILL)
    elif statement == "COMMIT" and state["rows"]:  # a transaction of bars (not the schema's)
        state["commits"] += 1
        state["rows"] = 0

def traced(self, create):
    conn = connect(self, create)
    conn.set_trace_callback(trace)
    return conn

store_sqlite.Store._connect = traced
run_backtest(load_blueprint(sys.argv[1]), store=sys.argv[2])
"""


def check_killed_store(path: Path, complete: BacktestRun) -> int:
    """The killed run's store opens, verifies and holds an exact prefix of whole bars of
    ``complete`` (the same run, not killed); return how many entries it kept."""
    with Store(path) as store:
        (info,) = store.runs()
        assert info.status is RunStatus.RUNNING  # never finished
        report = store.verify(info.run_id)
        assert report.ok, report.problems
        stored = list(store.entries(info.run_id))
        lines = list(complete.journal.lines())
        assert 0 < len(stored) < len(lines)
        assert [(r.seq, r.kind, r.payload.encode()) for r in stored] == lines[: len(stored)]
        bars = [bar for bar, _ in complete.journal.bar_events()]
        assert [r.bar for r in stored] == bars[: len(stored)]
        assert bars[len(stored) - 1] != bars[len(stored)]  # the last kept bar is whole
        assert info.committed_bars == report.committed_bars
        assert info.committed_entries == len(stored)
        # Orders already sent keep their client order ids in a re-run: no duplicates.
        rebuilt = store.rebuild_ledger(info.run_id)
        assert rebuilt.orders
        for order_id, order in rebuilt.orders.items():
            assert complete.ledger.orders[order_id].client_order_id == order.client_order_id
        tree = explain(store.source(info.run_id), next(iter(rebuilt.orders)))  # by scanning
        assert any(n.kind == "signal" for n in tree.nodes())
        return len(stored)
