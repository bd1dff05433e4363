"""The journal sink of a store-backed run: one row per bar, whole bars per transaction.

Each bar that appended entries becomes one ``bars`` row, built when the bar ends (its prices
and facts are read then). Rows are committed in batches, always on bar boundaries: at the end
of a bar when ``commit_seconds`` have passed since the last commit or ``commit_entries``
entries wait, and at the end of the run. A killed process therefore loses the bars taken since
the last commit (in a backtest, a fraction of a second of work) and never part of a bar: a
reopened store holds an exact prefix of the run's bars. ``commit_seconds=0`` commits every bar,
which is what a live run wants; one whose bars are further apart than ``commit_seconds``
commits every bar with the default too.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import struct
from collections.abc import Callable, Iterator, Mapping
from operator import attrgetter
from time import perf_counter
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from simpletrader.core.errors import StoreError
from simpletrader.journal.events import JournalEvent
from simpletrader.ledger.store.rows import bar_layout, pack_meta
from simpletrader.ledger.store.schema import RunStatus, now_text

if TYPE_CHECKING:
    from simpletrader.data.bars import Bars
    from simpletrader.journal.journal import JournalBar
    from simpletrader.ledger.store.sqlite import Store

logger = logging.getLogger(__name__)

COMMIT_SECONDS = 0.25
"""Default longest wall time between commits: what a killed backtest can lose, at most."""

COMMIT_ENTRIES = 16384
"""Default most entries waiting for a commit (bounds the memory they hold)."""

_INSERT_BARS = (
    "INSERT INTO bars (k, ordinal, first_seq, n, meta, payloads, bar_end) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)

_Row = tuple[int, int, int, int, str, str, bytes]
"""A ``bars`` row: k, ordinal, first_seq, n, meta, payloads, bar_end."""

KeyOf = Callable[[JournalEvent], tuple[str, str, str | None]]


class FactSource(Protocol):
    """What the writer reads fact values from: the strategy's point-in-time cache."""

    @property
    def fact_names(self) -> tuple[str, ...]: ...

    @property
    def index(self) -> int: ...

    def fact(self, name: str, ago: int = 0) -> float: ...


class RunWriter:
    """Call it with each :class:`~simpletrader.journal.journal.JournalBar`; then :meth:`finish`
    (or :meth:`fail`) commits what waits, records the outcome, and closes the store if the
    writer owns it."""

    __slots__ = (
        "_bars_committed",
        "_base",
        "_columns",
        "_commit_entries",
        "_commit_seconds",
        "_conn",
        "_fact_names",
        "_facts",
        "_key",
        "_keys",
        "_last_commit",
        "_last_seq",
        "_ordinal",
        "_pack",
        "_pack_market",
        "_pending",
        "_pending_entries",
        "_pending_seq",
        "_symbols",
        "_timestamps",
        "owns_store",
        "run_id",
        "store",
    )

    def __init__(
        self,
        store: Store,
        key: int,
        run_id: str,
        bars: Mapping[str, Bars],
        facts: FactSource | None,
        *,
        base: int,
        commit_seconds: float | None = None,
        commit_entries: int | None = None,
    ) -> None:
        self.store = store
        self._conn = store._conn
        self._key = key
        self._base = base
        self.run_id = run_id
        primary = next(iter(bars.values()))
        self._timestamps = np.ascontiguousarray(primary.timestamps, dtype=np.int64).data
        self._symbols = tuple(bars)
        self._columns = tuple(
            np.ascontiguousarray(a, dtype=np.float64).data
            for b in bars.values()
            for a in (b.open, b.high, b.low, b.close, b.volume)
        )
        self._facts = facts
        self._fact_names: tuple[str, ...] | None = None  # read at the first bar
        self._pack = self._pack_market = struct.Struct("<q").pack
        self._keys: dict[type, KeyOf] = {}
        # Read here, not bound as defaults: tests (and tuning) may set the module's values.
        self._commit_seconds = COMMIT_SECONDS if commit_seconds is None else commit_seconds
        self._commit_entries = COMMIT_ENTRIES if commit_entries is None else commit_entries
        self._pending: list[_Row] = []
        self._pending_entries = 0
        self._pending_seq = 0
        self._ordinal = 0
        self._last_commit = float("-inf")  # the first bar commits at once: the run shows up
        self._bars_committed = 0
        self._last_seq = 0
        self.owns_store = False

    def __call__(self, entries: JournalBar) -> None:
        """Take one bar's entries as one row; commit the waiting rows if it is time."""
        bar = entries.bar
        keys = self._keys
        meta: list[str | None] = []
        extend = meta.extend
        for event in entries.events:
            extend((keys.get(type(event)) or self._learn(type(event)))(event))
        n = len(entries.events)
        joined = b"\n".join(entries.payloads)
        if joined.count(b"\n") != n - 1:
            raise StoreError(f"bar {bar} of run {self.run_id}: a payload holds a line break")
        payloads = joined.decode()
        end = self._bar_end(bar)
        self._ordinal += 1
        self._pending.append(
            (self._base + bar, self._ordinal, entries.first_seq, n, pack_meta(meta), payloads, end)
        )
        self._pending_entries += n
        self._pending_seq = entries.first_seq + n - 1
        if self._pending_entries >= self._commit_entries:
            self.flush()
        else:
            now = perf_counter()
            if now - self._last_commit >= self._commit_seconds:
                self.flush(now)

    def flush(self, now: float | None = None) -> None:
        """Commit every bar taken so far, in one transaction."""
        rows = self._pending
        if not rows:
            return
        conn = self._conn
        try:
            conn.execute("BEGIN")
            try:
                if self._bars_committed == 0:  # how to read ``bar_end``, with the first bars
                    conn.execute(
                        "UPDATE runs SET bar_layout = ? WHERE run = ?",
                        (bar_layout(self._symbols, self._fact_names or ()), self._key),
                    )
                conn.executemany(_INSERT_BARS, rows)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(
                f"{self.store.path}: cannot write bars {rows[0][0] - self._base} to "
                f"{rows[-1][0] - self._base} of run {self.run_id}: {exc}"
            ) from None
        self._bars_committed += len(rows)
        self._last_seq = self._pending_seq
        self._pending = []
        self._pending_entries = 0
        self._last_commit = perf_counter() if now is None else now

    def _learn(self, cls: type[JournalEvent]) -> KeyOf:
        """``event -> (kind, id, ref)`` for one event class, ref '' when none.

        Plain attribute reads where possible: this runs once per entry.
        """
        plain_id = cls.primary_id is JournalEvent.primary_id
        plain_ref = cls.ref_id is JournalEvent.ref_id
        kind = cls.kind
        key_of: KeyOf
        if plain_id and plain_ref and cls.ref_field is not None:
            key_of = attrgetter("kind", cls.id_field, cls.ref_field)  # a None ref is rare
        elif plain_id and plain_ref:
            get_id = attrgetter(cls.id_field)

            def key_of(event: JournalEvent) -> tuple[str, str, str | None]:
                return kind, get_id(event), ""
        elif plain_id:  # a flow entry's ref depends on its DTO
            get_id = attrgetter(cls.id_field)
            ref_of = cls.ref_id

            def key_of(event: JournalEvent) -> tuple[str, str, str | None]:
                return kind, get_id(event), ref_of(event) or ""
        else:
            id_of = cls.primary_id
            ref_of = cls.ref_id

            def key_of(event: JournalEvent) -> tuple[str, str, str | None]:
                return kind, id_of(event), ref_of(event) or ""

        self._keys[cls] = key_of
        return key_of

    def _bar_end(self, bar: int) -> bytes:
        """The bar's open time, every symbol's OHLCV and the fact values, packed (see
        :func:`~simpletrader.ledger.store.rows.bar_layout`): formatting them as text cost
        more than the rest of the row."""
        source = self._facts
        names = self._fact_names
        if names is None:
            names = self._fact_names = () if source is None else tuple(source.fact_names)
            market = "<q" + "d" * len(self._columns)
            self._pack_market = struct.Struct(market).pack
            self._pack = struct.Struct(market + "d" * len(names)).pack
        values: list[float] = [self._timestamps[bar]]
        values += [column[bar] for column in self._columns]
        if source is None or not names:
            return self._pack_market(*values)
        ago = source.index - bar
        if ago < 0:  # the source is behind the bar: no facts known
            return self._pack_market(*values)
        fact = source.fact
        values += [fact(name, ago) for name in names]
        return self._pack(*values)

    def finish(self, run_hash: str, entries: int, headline: Mapping[str, Any]) -> None:
        """Commit what waits and mark the run FINISHED with its hash and headline figures.

        ``entries`` is the journal's length: entries no bar closed are not in the store.
        """
        try:
            self.flush()
            if entries != self._last_seq:
                logger.warning(
                    "run %s: %d journal entries but %d committed (entries after the last bar)",
                    self.run_id,
                    entries,
                    self._last_seq,
                )
            self._end(RunStatus.FINISHED, run_hash, dict(headline), None)
        finally:
            self._release()

    def fail(self, error: str) -> None:
        """Commit the whole bars that wait and mark the run FAILED with the error that stopped it.

        Called while another error propagates, so a store that cannot take them (disk full,
        say) is logged rather than raised: the run then stays RUNNING in the store.
        """
        try:
            self.flush()
            self._end(RunStatus.FAILED, None, {}, error)
        except StoreError as exc:
            logger.warning("could not mark run %s as failed: %s", self.run_id, exc)
        finally:
            self._release()

    def _release(self) -> None:
        self._pending = []
        if self.owns_store:
            self.store.close()

    def _end(
        self, status: RunStatus, run_hash: str | None, headline: dict[str, Any], error: str | None
    ) -> None:
        with self.store._guard("record the end of a run"):
            self._conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, run_hash = ?, committed_bars = ?, "
                "committed_entries = ?, headline = ?, error = ? WHERE run = ?",
                (
                    status.value,
                    now_text(),
                    run_hash,
                    self._bars_committed,
                    self._last_seq,
                    json.dumps(headline, sort_keys=True, default=str),
                    error,
                    self._key,
                ),
            )

    def lines(self) -> Iterator[tuple[int, str, bytes]]:
        """The run's committed entries as ``(seq, kind, payload)``: the journal reads its
        entries back from here, as it keeps no copy of its own (see ``Journal.add_sink``)."""
        if not self.store.closed:
            self.flush()
            for row in self.store.entries(self.run_id):
                yield row.seq, row.kind, row.raw()
            return
        with type(self.store)(self.store.path) as store:
            for row in store.entries(self.run_id):
                yield row.seq, row.kind, row.raw()
