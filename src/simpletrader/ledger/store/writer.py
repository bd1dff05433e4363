"""The journal sink of a store-backed run: one row per bar, whole bars per transaction.

Each bar that appended entries becomes one ``bars`` row, built when the bar ends (its prices
and facts are read then). Rows are committed in batches, always on bar boundaries: when
``commit_seconds`` have passed since the last commit, or ``commit_entries`` entries are
waiting, at the end of a bar, and always at the end of the run. A killed process therefore
loses at most the bars of the last ``commit_seconds`` (and never part of a bar): a reopened
store holds an exact prefix of the run's bars. ``commit_seconds=0`` commits every bar, which is
what a live run wants (its bars are minutes apart anyway, so it commits every bar either way).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from math import isfinite
from operator import attrgetter
from time import perf_counter
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from simpletrader.core.errors import StoreError
from simpletrader.journal.events import JournalEvent
from simpletrader.ledger.store.rows import pack_meta
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

_Row = tuple[int, int, int, int, str, str, str]
"""A ``bars`` row: k, ordinal, first_seq, n, meta, payloads, bar_end."""

KeyOf = Callable[[JournalEvent], tuple[str, str, str | None]]


class FactSource(Protocol):
    """What the writer reads fact values from: the strategy's point-in-time cache."""

    @property
    def fact_names(self) -> tuple[str, ...]: ...

    @property
    def index(self) -> int: ...

    def fact(self, name: str, ago: int = 0) -> float: ...


def _number(value: float) -> str:
    """A float as JSON: its shortest repr, or null when not finite."""
    text = repr(value)
    return "null" if "n" in text else text  # only nan and inf have an n


def _escape(text: str) -> str:
    """``text`` as a literal part of a ``%`` format."""
    return text.replace("%", "%%")


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
        "_end_template",
        "_fact_names",
        "_facts",
        "_key",
        "_keys",
        "_last_commit",
        "_last_seq",
        "_market",
        "_ordinal",
        "_pending",
        "_pending_entries",
        "_pending_seq",
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
        self._market = [
            (
                json.dumps(symbol) + ":[",
                tuple(
                    np.ascontiguousarray(a, dtype=np.float64).data
                    for a in (b.open, b.high, b.low, b.close, b.volume)
                ),
            )
            for symbol, b in bars.items()
        ]
        self._facts = facts
        self._fact_names: tuple[str, ...] = ()
        self._end_template: str | None = None
        self._columns = tuple(column for _, columns in self._market for column in columns)
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
        else:

            def key_of(event: JournalEvent) -> tuple[str, str, str | None]:
                return kind, event.primary_id(), event.ref_id() or ""

        self._keys[cls] = key_of
        return key_of

    def _bar_end(self, bar: int) -> str:
        """The bar's open time, prices and fact values as JSON, in one ``%`` format."""
        template = self._end_template
        if template is None:
            template = self._end_template = self._make_template()
        source = self._facts
        values: list[float] = [self._timestamps[bar]]
        values += [column[bar] for column in self._columns]
        if source is not None:
            ago = source.index - bar
            if ago < 0:
                return self._slow_bar_end(bar)
            fact = source.fact
            values += [fact(name, ago) for name in self._fact_names]
        if not isfinite(sum(values)):  # a nan or inf somewhere: JSON spells it null
            return self._slow_bar_end(bar)
        return template % tuple(values)

    def _make_template(self) -> str:
        source = self._facts
        self._fact_names = () if source is None else tuple(source.fact_names)
        market = ",".join(_escape(prefix) + "%r,%r,%r,%r,%r]" for prefix, _ in self._market)
        facts = ",".join(_escape(json.dumps(name)) + ":%r" for name in self._fact_names)
        return '{"ts":%d,"market":{' + market + '},"facts":{' + facts + "}}"

    def _slow_bar_end(self, bar: int) -> str:
        return (
            f'{{"ts":{self._timestamps[bar]},"market":{self._market_json(bar)},'
            f'"facts":{self._facts_json(bar)}}}'
        )

    def _market_json(self, bar: int) -> str:
        # Formatted by hand: json.dumps per active bar cost more than the rest of the row.
        parts = []
        for prefix, (o, h, low, c, v) in self._market:
            values = f"{o[bar]!r},{h[bar]!r},{low[bar]!r},{c[bar]!r},{v[bar]!r}]"
            if "n" in values:  # nan or inf, which JSON spells null
                values = ",".join([_number(a[bar]) for a in (o, h, low, c, v)]) + "]"
            parts.append(prefix + values)
        return "{" + ",".join(parts) + "}"

    def _facts_json(self, bar: int) -> str:
        source = self._facts
        if source is None:
            return "{}"
        names = self._fact_names
        ago = source.index - bar
        if ago < 0 or not names:
            return "{}"
        fact = source.fact
        pairs = [(json.dumps(name) + ":", name) for name in names]
        return "{" + ",".join([key + _number(fact(name, ago)) for key, name in pairs]) + "}"

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
