"""The ledger is the journal's projection: any valid journal rebuilds it exactly."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

import numpy as np
from hypothesis import given
from ledger_programs import CASH, MULTIPLIERS, fake_bars, programs

from simpletrader.journal.events import JournalEvent
from simpletrader.journal.journal import Journal
from simpletrader.ledger.ledger import Ledger
from simpletrader.ledger.store import Store


def live_ledger(program: list[list[JournalEvent]], journal: Journal) -> Ledger:
    """Apply the program as the engine would: events, then the bar's mark, then end_bar."""
    bars = fake_bars(len(program))
    ledger = Ledger(CASH, MULTIPLIERS, n_bars=len(program))
    ledger.attach_prices({s: b.close.data for s, b in bars.items()})
    for bar, events in enumerate(program):
        for event in events:
            journal.append(event)
            ledger.apply(event)
        ledger.mark(bar)
        journal.end_bar(bar)
    return ledger


@given(program=programs())
def test_ledger_equals_its_rebuild_from_the_journal(program: list[list[JournalEvent]]) -> None:
    journal = Journal(chunk_size=7)
    live = live_ledger(program, journal)
    rebuilt = Ledger(CASH, MULTIPLIERS)
    rebuilt.replay(journal.events())
    assert rebuilt.state_digest() == live.state_digest()
    closes = {s: b.close for s, b in fake_bars(len(program)).items()}
    with_bars = Ledger.rebuild(journal.bar_events(), CASH, MULTIPLIERS, closes, len(program))
    assert with_bars.state_digest() == live.state_digest()
    np.testing.assert_array_equal(with_bars.equity_curve, live.equity_curve)


@given(program=programs(max_bars=25))
def test_ledger_equals_its_rebuild_from_a_store(program: list[list[JournalEvent]]) -> None:
    bars = fake_bars(len(program))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.db"
        with Store(path, create=True) as store:
            writer = store.begin_run(
                run_id="RUN_20240102_030405_00000001",
                blueprint_name="program",
                blueprint="{}",
                seed=0,
                data_sources=dict.fromkeys(bars, "test"),
                starting_cash=CASH,
                multipliers=MULTIPLIERS,
                bars=bars,
            )
            journal = Journal()
            journal.add_sink(writer)
            live = live_ledger(program, journal)
            writer.finish(journal.run_hash, len(journal), {})
        with Store(path) as store:
            assert store.verify("RUN_20240102_030405_00000001").ok
            closes = {s: b.close for s, b in bars.items()}
            rebuilt = store.rebuild_ledger("RUN_20240102_030405_00000001", closes)
            stored = [r.payload.encode() for r in store.entries("RUN_20240102_030405_00000001")]
    assert rebuilt.state_digest() == live.state_digest()
    np.testing.assert_array_equal(rebuilt.equity_curve, live.equity_curve)
    assert stored == [p for _, _, p in journal.lines()]


@given(program=programs())
def test_cash_and_positions_are_conserved_net_of_fees_and_costs(
    program: list[list[JournalEvent]],
) -> None:
    ledger = Ledger(CASH, MULTIPLIERS)
    ledger.replay(e for events in program for e in events)
    for prices in ({"AAA": Decimal("97.31"), "FUT": Decimal("4012.5")}, {"AAA": 1, "FUT": 2}):
        marks = {s: Decimal(p) for s, p in prices.items()}
        value = ledger.cash + sum(
            (n * marks[s] * MULTIPLIERS[s] for s, n in ledger.positions.items()), Decimal(0)
        )
        explained = (
            CASH
            + ledger.realized_pnl
            + ledger.unrealized_pnl(marks)
            - ledger.fees
            - ledger.carry_costs
        )
        # Average prices are divided out to 28 digits; nothing else is inexact.
        assert abs(value - explained) < Decimal("1e-12")
    assert ledger.fees == sum((f.fee for f in ledger.fills), Decimal(0))
    assert sum((p.net for p in ledger.plans.values()), Decimal(0)) == sum(
        ledger.positions.values(), Decimal(0)
    )
