"""The store commits whole bars in batches: a killed run keeps an exact prefix of whole bars.

The children below record the bundled example with commits driven by entry counts only
(``COMMIT_SECONDS`` infinite), so where each transaction ends is known in advance and the
parent can say exactly which bars a kill must have kept.
"""

from __future__ import annotations

import json
import signal
import sqlite3
from dataclasses import replace
from itertools import groupby
from pathlib import Path

import numpy as np
import pytest

from crash_kit import check_killed_store, kill_inside_transaction, run_child
from simpletrader.backtest.engine import BacktestRun, load_market_data, run_backtest
from simpletrader.config.loader import load_blueprint
from simpletrader.core.errors import StoreError
from simpletrader.journal.journal import JournalBar
from simpletrader.ledger.store import RunStatus, Store
from simpletrader.ledger.store.rows import pack_meta, plain, unpack

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "src" / "simpletrader" / "examples" / "sma_cross_goog.yaml"
BATCH = 40  # entries that make the writer commit

# Commits every BATCH entries; killed inside the 5th transaction, after its 3rd row.
KILL_INSIDE_A_BATCH = kill_inside_transaction(BATCH, commits=4, rows=3)


@pytest.fixture(scope="module")
def complete() -> BacktestRun:
    return run_backtest(load_blueprint(EXAMPLE))


def bar_sizes(run: BacktestRun) -> list[int]:
    """Entries per active bar, in order."""
    return [len(list(group)) for _, group in groupby(bar for bar, _ in run.journal.bar_events())]


def transactions(sizes: list[int], batch: int) -> list[int]:
    """Entries per transaction of a writer committing at ``batch`` entries (and at once first)."""
    out: list[int] = []
    waiting = 0
    for k, size in enumerate(sizes):
        waiting += size
        if k == 0 or waiting >= batch:
            out.append(waiting)
            waiting = 0
    return out


def test_a_run_killed_inside_a_batch_keeps_exactly_the_batches_before(
    tmp_path: Path, complete: BacktestRun
) -> None:
    path = tmp_path / "torn.db"
    result = run_child(KILL_INSIDE_A_BATCH, str(EXAMPLE), str(path))
    assert result.returncode == -signal.SIGKILL, result.stderr
    kept = check_killed_store(path, complete)
    assert kept == sum(transactions(bar_sizes(complete), BATCH)[:4])
    # Committing every bar instead: tests/e2e/test_crash_safety.py kills one mid-bar.
    # The store takes the next run.
    rerun = run_backtest(load_blueprint(EXAMPLE), store=path)
    with Store(path) as store:
        assert store.run(rerun.run_id).status is RunStatus.FINISHED
        assert store.verify(rerun.run_id).ok


@pytest.mark.parametrize(
    ("seconds", "entries", "every_bar"),
    [
        (3600.0, 10**9, False),  # the first bar at once, the others at the end
        (0.0, 10**9, True),  # no time to wait
        (3600.0, 1, True),  # one waiting entry is enough
    ],
)
def test_waiting_bars_are_committed_by_time_by_count_and_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seconds: float, entries: int, every_bar: bool
) -> None:
    from simpletrader.ledger.store import writer

    path = tmp_path / "policy.db"
    monkeypatch.setattr(writer, "COMMIT_SECONDS", seconds)
    monkeypatch.setattr(writer, "COMMIT_ENTRIES", entries)
    original = writer.RunWriter.__call__
    calls = 0
    seen: list[tuple[int, int]] = []

    def spy(self: writer.RunWriter, bar: JournalBar) -> None:
        nonlocal calls
        original(self, bar)
        calls += 1
        if calls in (1, 5, 12):
            with Store(path) as other:  # another connection sees committed rows only
                seen.append((calls, other.run(self.run_id).committed_bars))

    monkeypatch.setattr(writer.RunWriter, "__call__", spy)
    run = run_backtest(load_blueprint(EXAMPLE), store=path)
    assert seen == [(n, n if every_bar else 1) for n in (1, 5, 12)]
    with Store(path) as store:
        info = store.run(run.run_id)
        assert info.committed_bars == calls
        assert info.committed_entries == len(run.journal)
        assert store.verify(run.run_id).ok


def test_an_older_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    Store(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    with pytest.raises(StoreError, match="schema version 1; this simpletrader reads version 2"):
        Store(path)


def test_the_journal_view_has_one_row_per_entry(tmp_path: Path) -> None:
    path = tmp_path / "view.db"
    run = run_backtest(load_blueprint(EXAMPLE), store=path)
    with Store(path) as store:
        entries = [(r.seq, r.bar, r.kind, r.id, r.ref) for r in store.entries(run.run_id)]
        payloads = [json.loads(r.payload) for r in store.entries(run.run_id)]
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT seq, bar, kind, id, ref, payload FROM journal WHERE run_id = ? ORDER BY seq",
        (run.run_id,),
    ).fetchall()
    conn.close()
    assert [r[:5] for r in rows] == entries
    assert [json.loads(r[5]) for r in rows] == payloads


def test_a_bar_keeps_nan_prices_and_facts_as_none(tmp_path: Path) -> None:
    blueprint = load_blueprint(EXAMPLE)
    bars, instruments, sources = load_market_data(blueprint, EXAMPLE.parent, (), None, None)
    (symbol,) = bars
    high = np.array(bars[symbol].high, dtype=np.float64)
    high[:] = np.nan  # every bar's high unknown
    bars = {symbol: replace(bars[symbol], high=high)}
    path = tmp_path / "nan.db"
    run = run_backtest(blueprint, store=path, market=(bars, instruments, sources))
    with Store(path) as store:
        first = next(store.entries(run.run_id))
        info = store.bar(run.run_id, first.bar)
    assert info is not None
    assert info.market[symbol][1] is None
    assert info.market[symbol][3] == float(bars[symbol].close[first.bar])
    assert set(info.facts) == {"fast", "slow"}


@pytest.mark.parametrize(
    "values",
    [
        ["order_filled", "FIL_1", "ORD_1"],
        ["flow", "SIG_1", None],
        ["flow", 'quo"te', "back\\slash"],
        ["flow", "new\nline", "tab\there"],
        ["flow", "ünïcødé", '","'],
    ],
)
def test_meta_survives_any_id(values: list[str | None]) -> None:
    meta = pack_meta(list(values))
    assert json.loads(meta) == ["" if v is None else v for v in values]
    (entry,) = unpack(7, 3, meta, '{"at":1}')
    assert (entry.bar, entry.seq, entry.kind, entry.id, entry.ref) == (7, 3, *values)
    assert plain(values[1] or "") == (f'"{values[1]}"' in meta)
