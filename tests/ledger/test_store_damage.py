"""A damaged store file is refused with a StoreError naming what broke, never a traceback.

SQLite keeps no checksums of its own: bytes changed in a row decode into other values, or into
nothing. Reading gives a ``StoreError``; a finished run's entries that still decode but changed
are found by ``verify``, which hashes them against the run's recorded ``run_hash``.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simpletrader.backtest.engine import run_backtest
from simpletrader.config.loader import load_blueprint
from simpletrader.core.errors import StoreError
from simpletrader.journal.explain import explain
from simpletrader.ledger.store import Store

_ORDER = '"client_order_id":"'  # only order_submitted entries hold it
EXAMPLE = Path(__file__).parents[2] / "src" / "simpletrader" / "examples" / "sma_cross_goog.yaml"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed store holding two runs of the bundled example."""
    path = tmp_path_factory.mktemp("damage") / "runs.db"
    blueprint = load_blueprint(EXAMPLE)
    run_backtest(blueprint, store=path)
    run_backtest(blueprint, store=path)
    return path


@pytest.fixture
def copy(recorded: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy.db"
    shutil.copy(recorded, target)
    return target


def first_run(path: Path) -> str:
    with Store(path) as store:
        return store.runs()[0].run_id


def edit(path: Path, sql: str, *params: object) -> None:
    conn = sqlite3.connect(path)
    with conn:
        assert conn.execute(sql, params).rowcount >= 1
    conn.close()


def first_row_holding(path: Path, text: str) -> int:
    conn = sqlite3.connect(path)
    (k,) = conn.execute(
        "SELECT k FROM bars WHERE instr(payloads, ?) > 0 ORDER BY k LIMIT 1", (text,)
    ).fetchone()
    conn.close()
    return int(k)


def first_order(path: Path) -> str:
    """The payload of the first order_submitted entry."""
    conn = sqlite3.connect(path)
    (payloads,) = conn.execute(
        "SELECT payloads FROM bars WHERE k = ?", (first_row_holding(path, _ORDER),)
    ).fetchone()
    conn.close()
    return next(p for p in payloads.split("\n") if _ORDER in p)


def replace_line(path: Path, line: str, new: str) -> None:
    edit(path, "UPDATE bars SET payloads = replace(payloads, ?, ?)", line, new)


def test_an_entry_changed_after_the_run_is_found_by_its_hash(copy: Path) -> None:
    k = first_row_holding(copy, '"quantity":"')
    sql = "UPDATE bars SET payloads = replace(payloads, ?, ?) WHERE k = ?"
    edit(copy, sql, '"quantity":"', '"quantity":"1', k)
    with Store(copy) as store:
        first, second = store.runs()
        report = store.verify(first.run_id)
        assert not report.ok
        assert f"not to the run_hash {first.run_hash}" in report.problems[0]
        assert store.verify(second.run_id).ok


def test_an_entry_that_does_not_decode_names_its_sequence_number(copy: Path) -> None:
    k = first_row_holding(copy, '"order_type":"MARKET"')
    edit(
        copy, "UPDATE bars SET payloads = replace(payloads, '\"MARKET\"', '\"MARK') WHERE k = ?", k
    )
    run_id = first_run(copy)
    with Store(copy) as store, pytest.raises(StoreError) as caught:
        store.rebuild_ledger(run_id)
    assert "(order_submitted) is corrupt and does not decode" in str(caught.value)
    assert "journal entry " in str(caught.value)


def test_entries_that_contradict_each_other_do_not_replay(copy: Path) -> None:
    # The first order now names a group no entry created: well-formed, but not a journal.
    line = first_order(copy)
    group = line.split('"group_id":"')[1].split('"')[0]
    changed = line.replace(f'"group_id":"{group}"', '"group_id":"EXG_19990101_000000_00000000"')
    replace_line(copy, line, changed)
    run_id = first_run(copy)
    with Store(copy) as store, pytest.raises(StoreError, match=r"is corrupt .* rebuild the ledger"):
        store.rebuild_ledger(run_id)


def test_a_damaged_run_record_is_a_store_error(copy: Path) -> None:
    edit(copy, "UPDATE runs SET started_at = 'yesterday' WHERE run = (SELECT min(run) FROM runs)")
    with Store(copy) as store, pytest.raises(StoreError, match=r"is corrupt .*list its runs"):
        store.runs()


def test_explaining_from_a_damaged_entry_is_a_store_error(copy: Path) -> None:
    line = first_order(copy)
    order_id = line.split('"order_id":"')[1].split('"')[0]
    replace_line(copy, line, line[:-9])
    run_id = first_run(copy)
    with Store(copy) as store, pytest.raises(StoreError, match="is corrupt"):
        explain(store.source(run_id), order_id)


def read_everything(path: Path) -> None:
    with Store(path) as store:
        for info in store.runs():
            store.verify(info.run_id)
            store.rebuild_ledger(info.run_id)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    damage=st.lists(
        st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.binary(min_size=1, max_size=64)),
        min_size=1,
        max_size=6,
    )
)
def test_damaged_bytes_anywhere_past_the_header_give_a_store_error_or_nothing(
    recorded: Path, tmp_path: Path, damage: list[tuple[float, bytes]]
) -> None:
    data = bytearray(recorded.read_bytes())
    for where, scribble in damage:
        start = 4096 + int(where * (len(data) - 4096 - len(scribble)))
        data[start : start + len(scribble)] = scribble
    path = tmp_path / "damaged.db"
    path.write_bytes(bytes(data))
    with contextlib.suppress(StoreError):  # anything else fails the test with its traceback
        read_everything(path)


def test_closes_the_caller_gets_wrong_are_not_reported_as_damage(copy: Path) -> None:
    with Store(copy) as store:
        info = store.runs()[0]
        short = {"GOOG": [100.0] * (info.n_bars - 1)}
        with pytest.raises(ValueError, match=r"closes\['GOOG'\]: \(\d+,\) values for a run of"):
            store.rebuild_ledger(info.run_id, short)
        with pytest.raises(ValueError, match=r"closes\['GOOG'\]: not a series of numbers"):
            store.rebuild_ledger(info.run_id, {"GOOG": ["a"] * info.n_bars})
        with pytest.raises(ValueError, match="closes: no series for GOOG"):
            store.rebuild_ledger(info.run_id, {})
