"""The journal: append-only, bar-closed for sinks, hashed identically in any process."""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from simpletrader.core.enums import GroupStatus, TradeDirection
from simpletrader.journal import background
from simpletrader.journal import journal as journal_module
from simpletrader.journal.events import GroupStatusChanged, TradePlanClosed, TradePlanOpened
from simpletrader.journal.journal import Journal, JournalBar

ROOT = Path(__file__).parents[2]
T = 1_700_000_000_000_000_000


def _fill(journal: Journal, bars: int = 30) -> None:
    """Entries on every third bar, one to three per bar."""
    for bar in range(bars):
        if bar % 3 == 0:
            for k in range(1 + bar % 2 + bar % 5 // 4):
                plan = f"TPL_20240102_030405_{bar * 10 + k:08x}"
                journal.append(TradePlanOpened(T + bar, plan, "s", "GOOG", TradeDirection.LONG))
        journal.end_bar(bar)


def test_sequence_numbers_start_at_one_and_count_entries() -> None:
    journal = Journal()
    event = GroupStatusChanged(T, "EXG_20240102_030405_00000001", GroupStatus.ACTIVE)
    assert journal.append(event) == 1
    assert journal.append(event) == 2
    assert len(journal) == 2
    assert [r["seq"] for r in journal.records()] == [1, 2]


def test_the_appender_appends_as_append_does_across_chunks_and_sinks() -> None:
    appended: list[Journal] = []
    for chunk_size, sunk in itertools.product((2, 3, 4096), (False, True)):
        plain, fast = Journal(chunk_size=chunk_size), Journal(chunk_size=chunk_size)
        plain_bars: list[JournalBar] = []
        fast_bars: list[JournalBar] = []
        if sunk:
            plain.add_sink(plain_bars.append)
            fast.add_sink(fast_bars.append)
        append = fast.appender  # bound once, as a hot caller does: it stays the journal's
        for bar in range(12):
            for k in range(bar % 3):
                event = TradePlanClosed(T + bar, f"TPL_20240102_030405_{bar * 10 + k:08x}")
                seq = plain.append(event)
                append(event)
                assert len(fast) == len(plain) == seq
            plain.end_bar(bar)
            fast.end_bar(bar)
        assert fast.append(TradePlanClosed(T, "TPL_20240102_030405_00000000")) == len(plain) + 1
        plain.append(TradePlanClosed(T, "TPL_20240102_030405_00000000"))
        assert [(b.first_seq, b.payloads) for b in fast_bars] == [
            (b.first_seq, b.payloads) for b in plain_bars
        ]
        assert fast.run_hash == plain.run_hash
        assert list(fast.bar_events()) == list(plain.bar_events())
        appended.append(fast)
    assert len({j.run_hash for j in appended}) == 1


def test_sinks_get_one_call_per_bar_that_appended_entries() -> None:
    journal = Journal()
    seen: list[JournalBar] = []
    journal.add_sink(seen.append)
    _fill(journal)
    assert [b.bar for b in seen] == list(range(0, 30, 3))
    assert seen[0].first_seq == 1
    for before, after in itertools.pairwise(seen):
        assert after.first_seq == before.last_seq + 1
        assert len(after.events) == len(after.payloads)
    assert seen[-1].last_seq == len(journal)


def test_hash_does_not_depend_on_chunking_or_sinks() -> None:
    plain, chunked, sunk = Journal(), Journal(chunk_size=2), Journal(chunk_size=3)
    sunk.add_sink(lambda _: None)
    for journal in (plain, chunked, sunk):
        _fill(journal)
    assert plain.run_hash == chunked.run_hash == sunk.run_hash
    assert list(plain.records()) == list(sunk.records())


def test_hash_changes_with_any_entry() -> None:
    a, b = Journal(), Journal()
    _fill(a)
    _fill(b)
    b.append(TradePlanClosed(T, "TPL_20240102_030405_00000000"))
    assert a.run_hash != b.run_hash


def test_bar_events_tag_each_entry_with_the_bar_that_closed_it() -> None:
    journal = Journal(chunk_size=2)
    _fill(journal)
    tagged = list(journal.bar_events())
    assert len(tagged) == len(journal)
    assert [bar for bar, _ in tagged] == sorted(bar for bar, _ in tagged)
    assert {bar for bar, _ in tagged} == set(range(0, 30, 3))


def test_records_can_be_filtered_by_kind() -> None:
    journal = Journal()
    _fill(journal)
    journal.append(TradePlanClosed(T, "TPL_20240102_030405_00000000"))
    closed = list(journal.records(kinds={"trade_plan_closed"}))
    assert [r["seq"] for r in closed] == [len(journal)]
    assert closed[0]["id"] == "TPL_20240102_030405_00000000"


def test_a_sink_cannot_join_in_the_middle_of_a_bar() -> None:
    journal = Journal()
    journal.append(TradePlanClosed(T, "TPL_20240102_030405_00000000"))
    with pytest.raises(ValueError, match="between bars"):
        journal.add_sink(lambda _: None)


SCRIPT = """
from simpletrader.backtest.engine import run_backtest
from simpletrader.config.loader import load_blueprint
run = run_backtest(load_blueprint({path!r}))
print(run.run_hash, len(run.journal))
"""


def test_run_hash_is_identical_across_processes_and_hash_seeds() -> None:
    example = ROOT / "src" / "simpletrader" / "examples" / "sma_cross_goog.yaml"
    outputs = set()
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT.format(path=str(example))],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=True,
        )
        outputs.add(done.stdout.strip())
    assert len(outputs) == 1
    run_hash, entries = outputs.pop().split()
    assert len(run_hash) == 32
    assert int(entries) > 100


def test_decimal_payloads_keep_their_exact_text() -> None:
    from simpletrader.journal.events import GroupResized

    journal = Journal()
    journal.append(GroupResized(T, "EXG_20240102_030405_00000001", Decimal("1.2300")))
    (record,) = journal.records()
    assert record["target_quantity"] == "1.2300"


class KeepingSink:
    """A durable sink in memory: keeps every line it is given."""

    def __init__(self) -> None:
        self.kept: list[tuple[int, str, bytes]] = []

    def __call__(self, entries: JournalBar) -> None:
        for k, (event, payload) in enumerate(zip(entries.events, entries.payloads, strict=True)):
            self.kept.append((entries.first_seq + k, event.kind, payload))

    def lines(self) -> Iterator[tuple[int, str, bytes]]:
        return iter(list(self.kept))


@pytest.mark.parametrize("chunk_size", [2, 4096])
def test_a_durable_sink_keeps_the_entries_and_the_hash_is_unchanged(chunk_size: int) -> None:
    plain, durable = Journal(), Journal(chunk_size=chunk_size)
    sink = KeepingSink()
    durable.add_sink(sink, durable=True)
    for journal in (plain, durable):
        _fill(journal)
        journal.append(TradePlanClosed(T, "TPL_20240102_030405_00000000"))  # no bar closed it
    assert durable.run_hash == plain.run_hash
    assert list(durable.lines()) == list(plain.lines())
    assert len(sink.kept) == len(durable) - 1
    assert list(durable.records()) == list(plain.records())


def test_a_durable_sink_must_come_first_and_be_able_to_read_back() -> None:
    late = Journal()
    late.append(TradePlanClosed(T, "TPL_20240102_030405_00000000"))
    late.end_bar(0)
    with pytest.raises(ValueError, match="before any entry"):
        late.add_sink(KeepingSink(), durable=True)
    with pytest.raises(TypeError, match="lines"):
        Journal().add_sink(lambda _: None, durable=True)


@pytest.mark.parametrize("durable", [False, True])
def test_reading_the_hash_mid_bar_takes_nothing_from_the_sinks(durable: bool) -> None:
    plain, sunk = Journal(), Journal()
    sink = KeepingSink()
    sunk.add_sink(sink, durable=durable)
    for journal in (plain, sunk):
        journal.append(TradePlanClosed(T, "TPL_20240102_030405_00000001"))
        journal.end_bar(0)
        journal.append(TradePlanClosed(T, "TPL_20240102_030405_00000002"))
    assert sunk.run_hash == plain.run_hash  # with the bar in progress
    assert list(sunk.lines()) == list(plain.lines())
    sunk.end_bar(1)
    plain.end_bar(1)
    assert [seq for seq, _, _ in sink.kept] == [1, 2]
    assert sunk.run_hash == plain.run_hash
    assert list(sunk.lines()) == list(plain.lines())


def _chunky(journal: Journal, bars: int = 40) -> Journal:
    """Several full chunks (for ``chunk_size=4``), so the background worker has work."""
    for bar in range(bars):
        for k in range(3):
            plan = f"TPL_20240102_030405_{bar * 10 + k:08x}"
            journal.append(TradePlanOpened(T + bar, plan, 's "x"', "GOOG", TradeDirection.LONG))
        journal.end_bar(bar)
    return journal


def test_hash_and_lines_wait_for_the_background_chunks() -> None:
    small, large = _chunky(Journal(chunk_size=4)), _chunky(Journal())
    assert small.run_hash == large.run_hash
    assert list(small.lines()) == list(large.lines())
    assert len(list(small.events())) == len(small) == 120


def _child_hashes(inherited: Journal, conn: Any) -> None:
    conn.send((inherited.run_hash, _chunky(Journal(chunk_size=4)).run_hash))
    conn.close()


_release_at_fork: list[threading.Event] = []


def _release() -> None:
    # Registered after the journal's own hook, so it runs before the journal drains its worker.
    while _release_at_fork:
        _release_at_fork.pop().set()


os.register_at_fork(before=_release)


def test_a_forked_child_hashes_like_its_parent() -> None:
    # The sweep's process pool forks: the child needs its own worker thread, and a journal it
    # inherits must not wait for jobs that only the parent's worker knew about.
    context = multiprocessing.get_context("fork")
    expected, few = _chunky(Journal()).run_hash, _chunky(Journal(), bars=5).run_hash
    started, release = threading.Event(), threading.Event()

    def block() -> None:
        started.set()
        release.wait()

    background.submit(block)
    started.wait()
    # Its three chunks queue behind the blocked job (fewer than the journal lets wait).
    inherited = _chunky(Journal(chunk_size=4), bars=5)
    _release_at_fork.append(release)
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child_hashes, args=(inherited, send))
    child.start()
    assert receive.poll(60)
    assert receive.recv() == (few, expected)
    child.join(60)
    assert child.exitcode == 0
    assert inherited.run_hash == few


def test_a_failed_background_job_fails_every_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data: bytes, level: int) -> bytes:
        raise MemoryError("no room for the chunk")

    monkeypatch.setattr(journal_module.zlib, "compress", broken)
    journal = Journal(chunk_size=4)
    with contextlib.suppress(MemoryError):  # it may surface as soon as the next bar ends
        _chunky(journal, bars=2)
    with pytest.raises(MemoryError, match="no room"):
        journal.run_hash  # noqa: B018
    with pytest.raises(MemoryError, match="no room"):
        list(journal.lines())


def test_journals_share_one_background_thread() -> None:
    _chunky(Journal(chunk_size=4)).run_hash  # noqa: B018
    before = threading.active_count()
    for _ in range(200):
        _chunky(Journal(chunk_size=2), bars=3).run_hash  # noqa: B018
    assert threading.active_count() == before


def test_a_journal_keeping_only_its_hash_hashes_alike_and_refuses_reads() -> None:
    from simpletrader.core.errors import JournalError

    kept, hashed = Journal(chunk_size=3), Journal(chunk_size=3, keep_entries=False)
    _fill(kept)
    _fill(hashed)
    assert hashed.run_hash == kept.run_hash
    assert len(hashed) == len(kept) > 3
    with pytest.raises(JournalError, match="kept only its journal's hash"):
        next(hashed.records())
