"""The embedded store: one SQLite file holding the journals of any number of runs.

WAL mode with ``synchronous=NORMAL``: a committed transaction survives the process being
killed (not necessarily a power cut). A store-backed run commits one transaction per bar that
appended entries: the bar's entries (one ``executemany``) plus its ``bars`` row, which is the
commit marker. A killed run therefore leaves every committed bar whole and nothing of the bar
in progress; :meth:`Store.verify` checks exactly that.

Every SQLite failure surfaces as :class:`~simpletrader.core.errors.StoreError` naming the file.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
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

_INSERT_ENTRY = "INSERT INTO entries (k, bar, kind, id, ref, payload) VALUES (?, ?, ?, ?, ?, ?)"
_INSERT_BAR = (
    "INSERT INTO bars (k, ts, first_seq, last_seq, market, facts) VALUES (?, ?, ?, ?, ?, ?)"
)
_MASK = (1 << RUN_SHIFT) - 1
_ENTRY_COLUMNS = f"e.k & {_MASK}, e.bar, e.kind, e.id, e.ref, e.payload"


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    """Started and not finished: still running, or the process died (see ``committed``)."""
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
    return repr(value) if math.isfinite(value) else "null"


class Store:
    """A simpletrader store file. ``create=True`` makes a new one if the path does not exist.

    Use as a context manager, or call :meth:`close`. One ``Store`` is used from one thread.
    """

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
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
            counts = {
                run: (n, last or 0)
                for run, n, last in self._conn.execute(
                    f"SELECT k >> {RUN_SHIFT}, COUNT(*), MAX(last_seq) FROM bars "
                    f"GROUP BY k >> {RUN_SHIFT}"
                )
            }
            rows = self._conn.execute(
                "SELECT run, run_id, blueprint_name, seed, status, started_at, finished_at, "
                "period_start, period_end, n_bars, data_sources, starting_cash, instruments, "
                "run_hash, headline, error FROM runs ORDER BY run"
            ).fetchall()
        out = []
        for row in rows:
            bars, entries = counts.get(row[0], (0, 0))
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
                    run_hash=row[13],
                    headline=json.loads(row[14]) if row[14] else {},
                    error=row[15],
                )
            )
        return out

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
        """The run's integer key and whether its id/ref index has been built."""
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
        key, _ = self._key(run_id)
        return self._bar(key, bar)

    def _bar(self, key: int, bar: int) -> BarInfo | None:
        with self._guard("read a bar"):
            row = self._conn.execute(
                "SELECT ts, first_seq, last_seq, market, facts FROM bars WHERE k = ?",
                ((key << RUN_SHIFT) | bar,),
            ).fetchone()
        if row is None:
            return None
        return BarInfo(
            bar=bar,
            ts=row[0],
            first_seq=row[1],
            last_seq=row[2],
            market={s: tuple(v) for s, v in json.loads(row[3]).items()},
            facts=json.loads(row[4]),
        )

    def verify(self, run_id: str) -> VerifyReport:
        """Check the run's journal is whole: every committed bar complete, nothing else.

        Each ``bars`` row must be matched by exactly its ``first_seq..last_seq`` entries, all
        tagged with that bar; bars must chain without gaps from sequence 1; and no entry may lie
        beyond the last committed bar.
        """
        key, _ = self._key(run_id)
        lo, hi = key << RUN_SHIFT, (key << RUN_SHIFT) | _MASK
        problems: list[str] = []
        with self._guard("verify a run"):
            rows = self._conn.execute(
                f"SELECT b.k & {_MASK}, b.first_seq, b.last_seq, COUNT(e.k), MIN(e.bar), "
                "MAX(e.bar) FROM bars b LEFT JOIN entries e "
                "ON e.k BETWEEN ? + b.first_seq AND ? + b.last_seq "
                "WHERE b.k BETWEEN ? AND ? GROUP BY b.k ORDER BY b.k",
                (lo, lo, lo, hi),
            ).fetchall()
            n_entries, max_seq = self._conn.execute(
                f"SELECT COUNT(*), COALESCE(MAX(k & {_MASK}), 0) FROM entries "
                "WHERE k BETWEEN ? AND ?",
                (lo, hi),
            ).fetchone()
        expected_first = 1
        for bar, first, last, count, low, high in rows:
            if first != expected_first:
                problems.append(f"bar {bar} starts at seq {first}, expected {expected_first}")
            if count != last - first + 1:
                problems.append(
                    f"bar {bar} holds {count} of its {last - first + 1} entries ({first}..{last})"
                )
            elif low != bar or high != bar:
                problems.append(
                    f"bar {bar}'s entries {first}..{last} are tagged bars {low}..{high}"
                )
            expected_first = last + 1
        last_seq = expected_first - 1
        if max_seq > last_seq:
            problems.append(
                f"entries up to seq {max_seq} exist beyond the last committed bar (seq {last_seq})"
            )
        if n_entries != max_seq:
            problems.append(f"{n_entries} entries for sequence numbers 1..{max_seq}")
        return VerifyReport(
            run_id=run_id,
            committed_bars=len(rows),
            entries=n_entries,
            last_seq=last_seq,
            problems=tuple(problems),
        )

    # -- explain support ---------------------------------------------------------------------
    def source(self, run_id: str) -> StoreRunSource:
        """The run as an entry source for :mod:`simpletrader.journal.explain`."""
        key, indexed = self._key(run_id)
        return StoreRunSource(self, run_id, key, indexed)


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
            self._bars[bar] = self.store._bar(self._key, bar)
        return self._bars[bar]


class RunWriter:
    """The journal sink of a store-backed run: one transaction per bar that appended entries.

    Call it with each :class:`~simpletrader.journal.journal.JournalBar`; then :meth:`finish`
    (or :meth:`fail`) records the outcome, and closes the store if the writer owns it.
    """

    __slots__ = (
        "_base",
        "_conn",
        "_fact_keys",
        "_fact_names",
        "_facts",
        "_key",
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
        self.owns_store = False

    def __call__(self, entries: JournalBar) -> None:
        """Write one bar's entries and its marker row in one transaction."""
        bar = entries.bar
        first = entries.first_seq
        k = self._base + first
        rows = [
            (k + j, bar, event.kind, event.primary_id(), event.ref_id(), payload.decode())
            for j, (event, payload) in enumerate(zip(entries.events, entries.payloads, strict=True))
        ]
        marker = (
            self._base | bar,
            self._timestamps[bar],
            first,
            first + len(rows) - 1,
            self._market_json(bar),
            self._facts_json(bar),
        )
        conn = self._conn
        try:
            conn.execute("BEGIN")
            try:
                conn.executemany(_INSERT_ENTRY, rows)
                conn.execute(_INSERT_BAR, marker)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(
                f"{self.store.path}: cannot write bar {bar} of run {self.run_id}: {exc}"
            ) from None

    def _market_json(self, bar: int) -> str:
        # Formatted by hand: json.dumps per active bar cost more than the rest of the row.
        return (
            "{"
            + ",".join(
                [
                    prefix + ",".join([_number(c[bar]) for c in columns]) + "]"
                    for prefix, columns in self._market
                ]
            )
            + "}"
        )

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
        return (
            "{"
            + ",".join(
                [
                    key + _number(fact(name, ago))
                    for key, name in zip(self._fact_keys, names, strict=True)
                ]
            )
            + "}"
        )

    def finish(self, run_hash: str, entries: int, headline: Mapping[str, Any]) -> None:
        """Mark the run FINISHED with its hash, entry count and headline figures, and build
        its id/ref index (in bulk, in key order: far cheaper than per-insert indexing)."""
        try:
            self._end(RunStatus.FINISHED, run_hash, entries, dict(headline), None)
        finally:
            self._release()

    def fail(self, error: str) -> None:
        """Mark the run FAILED with the error that stopped it (its entries stay, indexed).

        Called while another error propagates, so a store that cannot take the mark (disk
        full, say) is logged rather than raised: the run then stays RUNNING in the store.
        """
        try:
            self._end(RunStatus.FAILED, None, None, {}, error)
        except StoreError as exc:
            logger.warning("could not mark run %s as failed: %s", self.run_id, exc)
        finally:
            self._release()

    def _release(self) -> None:
        if self.owns_store:
            self.store.close()

    def _end(
        self,
        status: RunStatus,
        run_hash: str | None,
        entries: int | None,
        headline: dict[str, Any],
        error: str | None,
    ) -> None:
        lo, hi, key = self._base, self._base | _MASK, self._key
        conn = self._conn
        with self.store._guard("record the end of a run"):
            conn.execute("BEGIN")
            try:
                conn.execute(
                    f"INSERT INTO entry_ids (run, id, seq) SELECT ?, id, k & {_MASK} "
                    "FROM entries WHERE k BETWEEN ? AND ? ORDER BY id, k",
                    (key, lo, hi),
                )
                conn.execute(
                    f"INSERT INTO entry_refs (run, ref, seq) SELECT ?, ref, k & {_MASK} "
                    "FROM entries WHERE k BETWEEN ? AND ? AND ref IS NOT NULL ORDER BY ref, k",
                    (key, lo, hi),
                )
                conn.execute(
                    "UPDATE runs SET status = ?, finished_at = ?, run_hash = ?, entries = ?, "
                    "headline = ?, error = ?, indexed = 1 WHERE run = ?",
                    (
                        status.value,
                        _now(),
                        run_hash,
                        entries,
                        json.dumps(headline, sort_keys=True, default=str),
                        error,
                        key,
                    ),
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise


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
