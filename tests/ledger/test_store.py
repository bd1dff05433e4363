"""The SQLite store: versioned, several runs per file, refusing anything it cannot read."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from simpletrader.backtest.engine import BacktestRun, run_backtest
from simpletrader.config.loader import load_blueprint
from simpletrader.core.errors import StoreError
from simpletrader.journal.explain import JournalSource, explain
from simpletrader.ledger.store import APPLICATION_ID, SCHEMA_VERSION, RunStatus, Store

EXAMPLE = Path(__file__).parents[2] / "src" / "simpletrader" / "examples" / "sma_cross_goog.yaml"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BacktestRun, BacktestRun]:
    """A store holding two identical runs of the bundled example (same seed, same ids)."""
    path = tmp_path_factory.mktemp("store") / "runs.db"
    blueprint = load_blueprint(EXAMPLE)
    first = run_backtest(blueprint, store=path)
    second = run_backtest(blueprint, store=path)
    return path, first, second


@pytest.fixture
def copy(recorded: tuple[Path, BacktestRun, BacktestRun], tmp_path: Path) -> Path:
    """A private copy of the recorded store (closed, so its WAL is folded in)."""
    target = tmp_path / "copy.db"
    shutil.copy(recorded[0], target)
    return target


def test_a_new_store_records_its_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Store(path, create=True).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    meta = dict(conn.execute("SELECT key, value FROM store_meta").fetchall())
    assert meta["schema_version"] == str(SCHEMA_VERSION)
    assert meta["format"] == "simpletrader-store"
    conn.close()
    with Store(path) as store:
        assert store.runs() == []


def test_runs_are_recorded_with_their_blueprint_and_headline_figures(
    recorded: tuple[Path, BacktestRun, BacktestRun],
) -> None:
    path, first, second = recorded
    with Store(path) as store:
        runs = store.runs()
    assert [r.run_id for r in runs] == [first.run_id, second.run_id]
    info = runs[0]
    assert info.status is RunStatus.FINISHED
    assert info.blueprint_name == "sma_cross_goog"
    assert info.seed == 42
    assert info.n_bars == first.n_bars
    assert info.period_start == first.start
    assert info.period_end == first.end
    assert info.data_sources == {"GOOG": "GOOG_1d"}
    assert info.run_hash == first.run_hash
    assert info.committed_entries == len(first.journal)
    assert info.headline["final_equity"] == round(first.final_equity, 2)
    assert info.headline["orders"] == len(first.ledger.orders)


def test_identical_runs_share_ids_but_not_rows(
    recorded: tuple[Path, BacktestRun, BacktestRun],
) -> None:
    path, first, second = recorded
    assert first.run_hash == second.run_hash
    assert first.run_hash == run_backtest(load_blueprint(EXAMPLE)).run_hash  # as in memory
    assert first.run_id != second.run_id
    with Store(path) as store:
        a = [(r.seq, r.id, r.payload) for r in store.entries(first.run_id)]
        b = [(r.seq, r.id, r.payload) for r in store.entries(second.run_id)]
        assert a == b
        assert len(a) == len(first.journal)
        assert store.verify(first.run_id).ok
        assert store.verify(second.run_id).ok


def test_stored_entries_are_the_journal_byte_for_byte(
    recorded: tuple[Path, BacktestRun, BacktestRun],
) -> None:
    path, first, _ = recorded
    in_memory = run_backtest(load_blueprint(EXAMPLE))
    with Store(path) as store:
        stored = [(r.seq, r.kind, r.payload.encode()) for r in store.entries(first.run_id)]
    assert stored == list(in_memory.journal.lines())
    assert list(first.journal.lines()) == stored  # a store-backed journal reads its store


def test_the_ledger_rebuilt_from_a_store_matches_the_run(
    recorded: tuple[Path, BacktestRun, BacktestRun],
) -> None:
    path, first, _ = recorded
    closes = {s: b.close for s, b in first.bars.items()}
    with Store(path) as store:
        rebuilt = store.rebuild_ledger(first.run_id, closes)
        without_bars = store.rebuild_ledger(first.run_id)
    assert rebuilt.state_digest() == first.ledger.state_digest()
    assert without_bars.state_digest() == first.ledger.state_digest()
    np.testing.assert_array_equal(rebuilt.equity_curve, first.ledger.equity_curve)


def test_explaining_from_the_store_matches_explaining_from_memory(
    recorded: tuple[Path, BacktestRun, BacktestRun],
) -> None:
    path, first, _ = recorded
    memory = JournalSource(first.journal, first.bars, first.run_id)
    order_id = list(first.ledger.orders)[4]
    with Store(path) as store:
        stored = explain(store.source(first.run_id), order_id)
    in_memory = explain(memory, order_id)
    assert [(n.kind, n.id) for n in stored.nodes() if n.kind != "facts"] == [
        (n.kind, n.id) for n in in_memory.nodes()
    ]
    bar = stored.roots[0]
    assert set(bar.data["facts"]) == {"fast", "slow"}
    assert bar.data["market"] == in_memory.roots[0].data["market"]


def test_a_bar_keeps_its_prices_and_facts(recorded: tuple[Path, BacktestRun, BacktestRun]) -> None:
    path, first, _ = recorded
    with Store(path) as store:
        entry = next(store.entries(first.run_id))
        info = store.bar(first.run_id, entry.bar)
        assert store.bar(first.run_id, 0) is None  # nothing happened on the first bar
    assert info is not None
    goog = first.bars["GOOG"]
    assert info.market["GOOG"][3] == float(goog.close[entry.bar])
    assert info.ts == int(goog.timestamps[entry.bar])
    assert info.first_seq == 1


def test_an_unknown_run_lists_the_runs(recorded: tuple[Path, BacktestRun, BacktestRun]) -> None:
    path, first, _ = recorded
    with Store(path) as store, pytest.raises(StoreError, match=f"its runs: {first.run_id}"):
        store.run("RUN_20000101_000000_00000000")


def test_a_newer_schema_is_refused(copy: Path) -> None:
    conn = sqlite3.connect(copy)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
        Store(copy)


def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.commit()
    conn.close()
    for create in (False, True):
        with pytest.raises(StoreError, match=r"another application .*tables: invoices"):
            Store(path, create=create)
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM invoices").fetchone() == (0,)


def test_a_text_file_named_db_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("buy low, sell high\n" * 20)
    with pytest.raises(StoreError, match="not a SQLite database"):
        Store(path, create=True)
    assert path.read_text().startswith("buy low")


@pytest.mark.parametrize("keep", [0.5, 40])
def test_a_truncated_store_is_refused(copy: Path, keep: float) -> None:
    data = copy.read_bytes()
    size = int(len(data) * keep) if keep < 1 else int(keep)
    copy.write_bytes(data[:size])
    with pytest.raises(StoreError, match="truncated"):
        Store(copy)


def test_a_corrupt_store_is_refused_with_a_clear_error(copy: Path) -> None:
    data = bytearray(copy.read_bytes())
    page = 4096
    for start in range(2 * page, len(data) - page, 3 * page):  # scribble over many pages
        data[start + 8 : start + 200] = b"\xff" * 192
    copy.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="corrupt"):
        read_everything(copy)


def read_everything(path: Path) -> None:
    with Store(path) as store:
        for info in store.runs():
            store.verify(info.run_id)
            store.rebuild_ledger(info.run_id)


def test_a_damaged_schema_page_is_refused_on_open(copy: Path) -> None:
    data = bytearray(copy.read_bytes())
    data[100:4000] = b"\x00\x17" * 1950
    copy.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=str(copy)):
        Store(copy)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="store file not found"):
        Store(tmp_path / "absent.db")
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(StoreError, match="is empty"):
        Store(empty)
    Store(empty, create=True).close()  # an empty file becomes a store
    with Store(empty) as store:
        assert store.runs() == []
    with pytest.raises(StoreError, match="folder"):
        Store(tmp_path, create=True)


def test_a_run_that_raises_is_recorded_as_failed_with_its_committed_bars(tmp_path: Path) -> None:
    from simpletrader.core.errors import SimpleTraderError
    from simpletrader.core.event_bus import EventBus
    from simpletrader.journal.events import OrderFilled

    fills: list[OrderFilled] = []

    def third_fill_breaks(event: OrderFilled) -> None:
        fills.append(event)
        if len(fills) == 3:
            raise RuntimeError("observer broke")

    bus = EventBus()
    bus.subscribe(OrderFilled, third_fill_breaks, critical=True)
    path = tmp_path / "failed.db"
    with pytest.raises(SimpleTraderError, match="observer broke"):
        run_backtest(load_blueprint(EXAMPLE), store=path, bus=bus)
    with Store(path) as store:
        (info,) = store.runs()
        assert info.status is RunStatus.FAILED
        assert info.error is not None
        assert "observer broke" in info.error
        assert store.verify(info.run_id).ok
        fill_ids = [r.id for r in store.entries(info.run_id, kinds=["order_filled"])]
        assert fill_ids == [f.fill_id for f in fills[:2]]
