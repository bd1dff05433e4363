"""The embedded store: one SQLite file holding the journals of any number of runs.

WAL mode with ``synchronous=NORMAL``: a committed transaction survives the process being
killed (not necessarily a power cut). A store-backed run commits one transaction per bar that
appended entries: the bar's entries in one ``executemany``, the last of them carrying the bar's
prices and facts (``bar_end``), which is the commit marker. A killed run therefore leaves every
committed bar whole and nothing of the bar in progress; :meth:`Store.verify` checks exactly that.

Every SQLite failure surfaces as :class:`~simpletrader.core.errors.StoreError` naming the file.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict

from simpletrader.core.errors import StoreError
from simpletrader.journal.codec import BarInfo, EntryRow
from simpletrader.journal.events import JournalEvent
from simpletrader.ledger.ledger import Ledger
from simpletrader.ledger.store.schema import (
    RUN_SHIFT,
    SCHEMA_VERSION,
    check_file,
    check_schema,
    create_schema,
)

if TYPE_CHECKING:
    from simpletrader.data.bars import Bars
    from simpletrader.journal.journal import JournalBar

logger = logging.getLogger(__name__)

_INSERT_ENTRY = (
    "INSERT INTO entries (k, bar, kind, id, ref, payload, bar_end) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_MASK = (1 << RUN_SHIFT) - 1
_ENTRY_COLUMNS = f"e.k & {_MASK}, e.bar, e.kind, e.id, e.ref, e.payload"


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    """Started and not finished: still running, or the process died (``Store.verify``)."""
    FINISHED = "FINISHED"
    FAILED = "FAILED"


class RunInfo(BaseModel):
    """One run recorded in a store: what it ran, on what, and its headline figures."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    blueprint_name: str
    seed: int
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    period_start: datetime
    period_end: datetime
    n_bars: int
    data_sources: dict[str, str]
    starting_cash: Decimal
    multipliers: dict[str, Decimal]
    committed_bars: int
    committed_entries: int
    run_hash: str | None
    headline: dict[str, Any]
    error: str | None


class FactSource(Protocol):
    """What the writer reads fact values from: the strategy's point-in-time cache."""

    @property
    def fact_names(self) -> tuple[str, ...]: ...

    @property
    def index(self) -> int: ...

    def fact(self, name: str, ago: int = 0) -> float: ...


class VerifyReport(BaseModel):
    """What :meth:`Store.verify` found for one run; ``ok`` when ``problems`` is empty."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    committed_bars: int
    entries: int
    last_seq: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _package_version() -> str:
    try:
        return version("simpletrader")
    except PackageNotFoundError:
        return "unknown"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _number(value: float) -> str:
    """A float as JSON: its shortest repr, or null when not finite."""
    text = repr(value)
    return "null" if "n" in text else text  # only nan and inf have an n


class Store:
    """A simpletrader store file. ``create=True`` makes a new one if the path does not exist.

    Use as a context manager, or call :meth:`close`. One ``Store`` is used from one thread.
    """

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        self.closed = False
        new = check_file(self.path, create=create)
        with self._guard("open it"):
            self._conn = self._connect(create)
        try:
            with self._guard("open"):
                if new or check_schema(self._conn, self.path, create=create):
                    self._conn.execute("PRAGMA journal_mode = WAL")
                    create_schema(self._conn, f"simpletrader {_package_version()}")
                    check_schema(self._conn, self.path, create=False)
        except BaseException:
            self._conn.close()
            raise

    def _connect(self, create: bool) -> sqlite3.Connection:
        mode = "rwc" if create else "rw"
        uri = f"{self.path.resolve().as_uri()}?mode={mode}"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30.0)
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _ensure_wal(self) -> None:
        # Persistent in the file, but a store copied or vacuumed elsewhere may have lost it.
        with self._guard("switch it to WAL mode"):
            self._conn.execute("PRAGMA journal_mode = WAL")

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        """Turn SQLite's errors into ``StoreError`` naming the file and what was being done."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            detail = str(exc)
            if "malformed" in detail or "not a database" in detail:
                raise StoreError(
                    f"{self.path} is corrupt ({detail}) while trying to {what}; "
                    "restore it from a copy or start a new store"
                ) from None
            raise StoreError(f"{self.path}: cannot {what}: {detail}") from None

    def close(self) -> None:
        """Close the file (SQLite folds the WAL back into it when the last user closes)."""
        self._conn.close()
        self.closed = True

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------
    def begin_run(
        self,
        *,
        run_id: str,
        blueprint_name: str,
        blueprint: str,
        seed: int,
        data_sources: Mapping[str, str],
        starting_cash: Decimal,
        multipliers: Mapping[str, Decimal],
        bars: Mapping[str, Bars],
        facts: FactSource | None = None,
    ) -> RunWriter:
        """Record a new run (status RUNNING) and return the journal sink that writes it.

        ``blueprint`` is the blueprint as JSON or YAML text; ``bars`` the run's aligned bars
        (the first symbol is the clock); ``facts`` where the fact values of each bar are read.
        """
        self._ensure_wal()
        primary = next(iter(bars.values()))
        start = datetime.fromtimestamp(int(primary.timestamps[0]) / 1e9, UTC)
        end = datetime.fromtimestamp(int(primary.timestamps[-1]) / 1e9, UTC)
        with self._guard("record a new run"):
            cursor = self._conn.execute(
                "INSERT INTO runs (run_id, blueprint_name, blueprint, seed, data_sources, "
                "instruments, starting_cash, period_start, period_end, n_bars, status, started_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    blueprint_name,
                    blueprint,
                    seed,
                    json.dumps(dict(data_sources), sort_keys=True),
                    json.dumps({s: str(m) for s, m in multipliers.items()}, sort_keys=True),
                    str(starting_cash),
                    start.isoformat(),
                    end.isoformat(),
                    len(primary),
                    RunStatus.RUNNING.value,
                    _now(),
                ),
            )
        key = cursor.lastrowid
        assert key is not None
        return RunWriter(self, key, run_id, bars, facts)

    # -- reading ---------------------------------------------------------------------------
    def runs(self) -> list[RunInfo]:
        """Every run in the store, oldest first."""
        with self._guard("list its runs"):
            rows = self._conn.execute(
                "SELECT run, run_id, blueprint_name, seed, status, started_at, finished_at, "
                "period_start, period_end, n_bars, data_sources, starting_cash, instruments, "
                "committed_bars, committed_entries, run_hash, headline, error "
                "FROM runs ORDER BY run"
            ).fetchall()
        out = []
        for row in rows:
            bars, entries = row[13], row[14]
            if bars is None:  # still running, or killed: count what was committed
                bars, entries = self._committed(row[0])
            out.append(
                RunInfo(
                    run_id=row[1],
                    blueprint_name=row[2],
                    seed=row[3],
                    status=RunStatus(row[4]),
                    started_at=datetime.fromisoformat(row[5]),
                    finished_at=datetime.fromisoformat(row[6]) if row[6] else None,
                    period_start=datetime.fromisoformat(row[7]),
                    period_end=datetime.fromisoformat(row[8]),
                    n_bars=row[9],
                    data_sources=json.loads(row[10]),
                    starting_cash=Decimal(row[11]),
                    multipliers={s: Decimal(m) for s, m in json.loads(row[12]).items()},
                    committed_bars=bars,
                    committed_entries=entries,
                    run_hash=row[15],
                    headline=json.loads(row[16]) if row[16] else {},
                    error=row[17],
                )
            )
        return out

    def _committed(self, key: int) -> tuple[int, int]:
        """(bars, entries) committed by a run, counted from its rows."""
        with self._guard("count a run's entries"):
            bars, last = self._conn.execute(
                f"SELECT COUNT(bar_end), COALESCE(MAX(k & {_MASK}), 0) FROM entries "
                "WHERE k BETWEEN ? AND ?",
                (key << RUN_SHIFT, (key << RUN_SHIFT) | _MASK),
            ).fetchone()
        return int(bars), int(last)

    def run(self, run_id: str | None = None) -> RunInfo:
        """The run ``run_id``; without one, the store's only run (``StoreError`` otherwise)."""
        runs = self.runs()
        if run_id is None:
            if len(runs) == 1:
                return runs[0]
            if not runs:
                raise StoreError(f"{self.path} holds no runs yet")
            raise StoreError(
                f"{self.path} holds {len(runs)} runs; name one of: "
                + ", ".join(r.run_id for r in runs)
            )
        for info in runs:
            if info.run_id == run_id:
                return info
        known = ", ".join(r.run_id for r in runs) or "none"
        raise StoreError(f"no run {run_id} in {self.path}; its runs: {known}")

    def _key(self, run_id: str) -> tuple[int, bool]:
        """The run's integer key and whether its id/ref/bar index has been built."""
        with self._guard("look up a run"):
            row = self._conn.execute(
                "SELECT run, indexed FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
        if row is None:
            self.run(run_id)  # raises, listing the runs
        return int(row[0]), bool(row[1])

    def _rows(self, what: str, sql: str, params: Sequence[object]) -> list[EntryRow]:
        with self._guard(what):
            return [EntryRow(*r) for r in self._conn.execute(sql, params)]

    def entries(self, run_id: str, kinds: Sequence[str] | None = None) -> Iterator[EntryRow]:
        """The run's committed entries in sequence order (optionally only those of ``kinds``)."""
        key, _ = self._key(run_id)
        sql = f"SELECT {_ENTRY_COLUMNS} FROM entries e WHERE e.k BETWEEN ? AND ?"
        params: list[object] = [key << RUN_SHIFT, (key << RUN_SHIFT) | _MASK]
        if kinds is not None:
            sql += f" AND e.kind IN ({', '.join('?' * len(kinds))})"
            params.extend(kinds)
        sql += " ORDER BY e.k"
        with self._guard("read the journal"):
            cursor = self._conn.execute(sql, params)
            while batch := cursor.fetchmany(4096):
                for row in batch:
                    yield EntryRow(*row)

    def bar_events(self, run_id: str) -> Iterator[tuple[int, JournalEvent]]:
        """``(bar, event)`` for every committed entry, in order: what a rebuild applies."""
        for row in self.entries(run_id):
            yield row.bar, row.event()

    def rebuild_ledger(self, run_id: str, closes: Mapping[str, Any] | None = None) -> Ledger:
        """The run's ledger rebuilt from its stored journal alone.

        With ``closes`` (each symbol's close series over the run's bars) the equity curve is
        rebuilt as well; without, cash, positions, plans, orders, fills, P&L and fees are.
        """
        info = self.run(run_id)
        if closes is None:
            ledger = Ledger(info.starting_cash, info.multipliers)
            ledger.replay(event for _, event in self.bar_events(run_id))
            return ledger
        return Ledger.rebuild(
            self.bar_events(run_id), info.starting_cash, info.multipliers, closes, info.n_bars
        )

    def bar(self, run_id: str, bar: int) -> BarInfo | None:
        """The committed bar ``bar`` of a run, or None if it appended nothing."""
        key, indexed = self._key(run_id)
        return self._bar(key, bar, indexed)

    def _bar(self, key: int, bar: int, indexed: bool) -> BarInfo | None:
        lo = key << RUN_SHIFT
        with self._guard("read a bar"):
            if indexed:
                span = self._conn.execute(
                    "SELECT first_seq, last_seq FROM entry_bars WHERE run = ? AND bar = ?",
                    (key, bar),
                ).fetchone()
                if span is None:
                    return None
                first, last = span
                (marker,) = self._conn.execute(
                    "SELECT bar_end FROM entries WHERE k = ?", (lo + last,)
                ).fetchone()
            else:
                first, last, marker = self._conn.execute(
                    f"SELECT MIN(k & {_MASK}), MAX(k & {_MASK}), MAX(bar_end) FROM entries "
                    "WHERE k BETWEEN ? AND ? AND bar = ?",
                    (lo, lo | _MASK, bar),
                ).fetchone()
        if marker is None:
            return None
        end = json.loads(marker)
        return BarInfo(
            bar=bar,
            ts=end["ts"],
            first_seq=first,
            last_seq=last,
            market={s: tuple(v) for s, v in end["market"].items()},
            facts=end["facts"],
        )

    def verify(self, run_id: str) -> VerifyReport:
        """Check the run's journal is whole: every committed bar complete, nothing else.

        Sequence numbers must run from 1 without a gap; each bar's entries must be contiguous
        and end with its marker (``bar_end``), and no other entry may carry one; the last entry
        must be a marker, so nothing of an uncommitted bar is present.
        """
        key, _ = self._key(run_id)
        lo = key << RUN_SHIFT
        problems: list[str] = []
        bars = rows = 0
        last_seq = 0
        current: int | None = None
        open_since = 0  # first seq of the bar whose marker has not been seen yet
        with self._guard("verify a run"):
            cursor = self._conn.execute(
                f"SELECT k & {_MASK}, bar, bar_end IS NOT NULL FROM entries "
                "WHERE k BETWEEN ? AND ? ORDER BY k",
                (lo, lo | _MASK),
            )
            while batch := cursor.fetchmany(8192):
                for seq, bar, marks in batch:
                    if seq != last_seq + 1:
                        problems.append(f"seq {seq} follows seq {last_seq}")
                    if not open_since:  # the first entry of a committed bar
                        if current is not None and bar < current:
                            problems.append(f"bar {bar} at seq {seq} comes after bar {current}")
                        current, open_since = bar, seq
                    elif bar != current:
                        problems.append(f"bar {current} (from seq {open_since}) has no end")
                        current, open_since = bar, seq
                    if marks:
                        bars += 1
                        open_since = 0
                    last_seq = seq
                rows += len(batch)
                if len(problems) > 20:
                    break
        if open_since:
            problems.append(
                f"bar {current}'s entries from seq {open_since} to {last_seq} have no end: "
                "half a bar"
            )
        return VerifyReport(
            run_id=run_id,
            committed_bars=bars,
            entries=rows,
            last_seq=last_seq,
            problems=tuple(problems),
        )

    # -- explain support ---------------------------------------------------------------------
    def source(self, run_id: str) -> StoreRunSource:
        """The run as an entry source for :mod:`simpletrader.journal.explain`.

        The first time a run that has ended is explained, its id, ref and bar indexes are built
        (in bulk, in key order: about a second for a million-bar run); a run still going, or
        killed, is scanned instead.
        """
        key, indexed = self._key(run_id)
        if not indexed and self.run(run_id).status is not RunStatus.RUNNING:
            indexed = self._index(key)
        return StoreRunSource(self, run_id, key, indexed)

    def _index(self, key: int) -> bool:
        """Build the run's indexes; False if the file cannot be written (then: scans)."""
        lo, hi, conn = key << RUN_SHIFT, (key << RUN_SHIFT) | _MASK, self._conn
        try:
            with self._guard("index a run"):
                conn.execute("BEGIN IMMEDIATE")
                try:
                    done = conn.execute("SELECT indexed FROM runs WHERE run = ?", (key,))
                    if not done.fetchone()[0]:  # another process may have just built it
                        conn.execute(
                            f"INSERT INTO entry_ids (run, id, seq) SELECT ?, id, k & {_MASK} "
                            "FROM entries WHERE k BETWEEN ? AND ? ORDER BY id, k",
                            (key, lo, hi),
                        )
                        conn.execute(
                            f"INSERT INTO entry_refs (run, ref, seq) SELECT ?, ref, k & {_MASK} "
                            "FROM entries WHERE k BETWEEN ? AND ? AND ref IS NOT NULL "
                            "ORDER BY ref, k",
                            (key, lo, hi),
                        )
                        conn.execute(
                            "INSERT INTO entry_bars (run, bar, first_seq, last_seq) "
                            f"SELECT ?, bar, MIN(k & {_MASK}), MAX(k & {_MASK}) FROM entries "
                            "WHERE k BETWEEN ? AND ? GROUP BY bar ORDER BY bar",
                            (key, lo, hi),
                        )
                        conn.execute("UPDATE runs SET indexed = 1 WHERE run = ?", (key,))
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except StoreError as exc:
            if "readonly" not in str(exc):
                raise
            logger.info("%s is read-only: explaining by scanning", self.path)
            return False
        return True


class StoreRunSource:
    """One run's entries as ``journal.explain`` reads them.

    Lookups by id and by ref use the run's bulk-built index once the run has finished; for a
    run that is still going (or was killed) they scan the run's entries instead.
    """

    def __init__(self, store: Store, run_id: str, key: int, indexed: bool) -> None:
        self.store = store
        self.run_id = run_id
        self._key = key
        self._indexed = indexed
        self._lo = key << RUN_SHIFT
        self._hi = self._lo | _MASK
        self._bars: dict[int, BarInfo | None] = {}

    def _lookup(self, column: str, table: str, value: str) -> list[EntryRow]:
        if self._indexed:
            return self.store._rows(
                "look up an id",
                f"SELECT {_ENTRY_COLUMNS} FROM {table} i JOIN entries e "
                f"ON e.k = ? + i.seq WHERE i.run = ? AND i.{column} = ? ORDER BY i.seq",
                (self._lo, self._key, value),
            )
        return self.store._rows(
            "look up an id",
            f"SELECT {_ENTRY_COLUMNS} FROM entries e WHERE e.k BETWEEN ? AND ? "
            f"AND e.{column} = ? ORDER BY e.k",
            (self._lo, self._hi, value),
        )

    def by_id(self, entry_id: str) -> list[EntryRow]:
        """Entries filed under ``entry_id``, in sequence order."""
        return self._lookup("id", "entry_ids", entry_id)

    def by_ref(self, ref: str) -> list[EntryRow]:
        """Entries that belong to the record ``ref``, in sequence order."""
        return self._lookup("ref", "entry_refs", ref)

    def in_bar(self, bar: int) -> list[EntryRow]:
        """The entries bar ``bar`` committed."""
        info = self.bar_info(bar)
        if info is None:
            return []
        return self.store._rows(
            "read a bar",
            f"SELECT {_ENTRY_COLUMNS} FROM entries e WHERE e.k BETWEEN ? AND ? ORDER BY e.k",
            (self._lo + info.first_seq, self._lo + info.last_seq),
        )

    def mentioning(self, text: str, kind: str) -> list[EntryRow]:
        """Entries of ``kind`` whose payload contains ``text`` (a scan of the run)."""
        return self.store._rows(
            "search the journal",
            f"SELECT {_ENTRY_COLUMNS} FROM entries e WHERE e.k BETWEEN ? AND ? "
            "AND e.kind = ? AND instr(e.payload, ?) > 0 ORDER BY e.k",
            (self._lo, self._hi, kind, text),
        )

    def ids_with_prefix(self, prefix: str) -> list[str]:
        """Every distinct primary id of the run that starts with ``prefix + '_'``."""
        if self._indexed:
            sql = "SELECT DISTINCT id FROM entry_ids WHERE run = ? AND id >= ? AND id < ?"
            params: tuple[object, ...] = (self._key, prefix + "_", prefix + "`")
        else:
            sql = "SELECT DISTINCT id FROM entries WHERE k BETWEEN ? AND ? AND id >= ? AND id < ?"
            params = (self._lo, self._hi, prefix + "_", prefix + "`")
        with self.store._guard("list ids"):
            return [r[0] for r in self.store._conn.execute(sql, params)]

    def bar_info(self, bar: int) -> BarInfo | None:
        """The committed bar ``bar`` (its prices and facts), or None."""
        if bar not in self._bars:
            self._bars[bar] = self.store._bar(self._key, bar, self._indexed)
        return self._bars[bar]


class RunWriter:
    """The journal sink of a store-backed run: one transaction per bar that appended entries.

    Call it with each :class:`~simpletrader.journal.journal.JournalBar`; then :meth:`finish`
    (or :meth:`fail`) records the outcome, and closes the store if the writer owns it.
    """

    __slots__ = (
        "_bars_committed",
        "_base",
        "_conn",
        "_fact_keys",
        "_fact_names",
        "_facts",
        "_key",
        "_keys",
        "_last_seq",
        "_market",
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
    ) -> None:
        self.store = store
        self._conn = store._conn
        self._key = key
        self._base = key << RUN_SHIFT
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
        self._fact_names: tuple[str, ...] | None = None
        self._fact_keys: tuple[str, ...] = ()
        self._keys: dict[type, Callable[[JournalEvent], tuple[str, str | None]]] = {}
        self._bars_committed = 0
        self._last_seq = 0
        self.owns_store = False

    def __call__(self, entries: JournalBar) -> None:
        """Write one bar's entries in one transaction, the last one marking the bar's end."""
        bar = entries.bar
        k = self._base + entries.first_seq
        keys = self._keys
        rows: list[tuple[object, ...]] = []
        for event, payload in zip(entries.events, entries.payloads, strict=True):
            cls = type(event)
            key_of = keys.get(cls) or self._learn(cls)
            rows.append((k, bar, cls.kind, *key_of(event), payload.decode(), None))
            k += 1
        end = (
            f'{{"ts":{self._timestamps[bar]},"market":{self._market_json(bar)},'
            f'"facts":{self._facts_json(bar)}}}'
        )
        rows[-1] = (*rows[-1][:-1], end)
        conn = self._conn
        try:
            conn.execute("BEGIN")
            try:
                conn.executemany(_INSERT_ENTRY, rows)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(
                f"{self.store.path}: cannot write bar {bar} of run {self.run_id}: {exc}"
            ) from None
        self._bars_committed += 1
        self._last_seq = entries.last_seq

    def _learn(self, cls: type[JournalEvent]) -> Callable[[JournalEvent], tuple[str, str | None]]:
        """``event -> (id, ref)`` for one event class: plain attribute reads where possible."""
        plain_id = cls.primary_id is JournalEvent.primary_id
        plain_ref = cls.ref_id is JournalEvent.ref_id
        key_of: Callable[[JournalEvent], tuple[str, str | None]]
        if plain_id and plain_ref and cls.ref_field is not None:
            key_of = attrgetter(cls.id_field, cls.ref_field)
        elif plain_id and plain_ref:
            get_id = attrgetter(cls.id_field)

            def key_of(event: JournalEvent) -> tuple[str, str | None]:
                return get_id(event), None
        else:

            def key_of(event: JournalEvent) -> tuple[str, str | None]:
                return event.primary_id(), event.ref_id()

        self._keys[cls] = key_of
        return key_of

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
        if names is None:
            names = self._fact_names = tuple(source.fact_names)
            self._fact_keys = tuple(json.dumps(name) + ":" for name in names)
        ago = source.index - bar
        if ago < 0 or not names:
            return "{}"
        fact = source.fact
        pairs = zip(self._fact_keys, names, strict=True)
        return "{" + ",".join([key + _number(fact(name, ago)) for key, name in pairs]) + "}"

    def finish(self, run_hash: str, entries: int, headline: Mapping[str, Any]) -> None:
        """Mark the run FINISHED with its hash and headline figures.

        ``entries`` is the journal's length: entries no bar closed are not in the store.
        """
        if entries != self._last_seq:
            logger.warning(
                "run %s: %d journal entries but %d committed (entries after the last bar)",
                self.run_id,
                entries,
                self._last_seq,
            )
        try:
            self._end(RunStatus.FINISHED, run_hash, dict(headline), None)
        finally:
            self._release()

    def fail(self, error: str) -> None:
        """Mark the run FAILED with the error that stopped it (its committed entries stay).

        Called while another error propagates, so a store that cannot take the mark (disk
        full, say) is logged rather than raised: the run then stays RUNNING in the store.
        """
        try:
            self._end(RunStatus.FAILED, None, {}, error)
        except StoreError as exc:
            logger.warning("could not mark run %s as failed: %s", self.run_id, exc)
        finally:
            self._release()

    def _release(self) -> None:
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
                    _now(),
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
            for row in self.store.entries(self.run_id):
                yield row.seq, row.kind, row.raw()
            return
        with Store(self.store.path) as store:
            for row in store.entries(self.run_id):
                yield row.seq, row.kind, row.raw()


__all__ = [
    "SCHEMA_VERSION",
    "BarInfo",
    "FactSource",
    "RunInfo",
    "RunStatus",
    "RunWriter",
    "Store",
    "StoreRunSource",
    "VerifyReport",
]
