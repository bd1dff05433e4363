"""The embedded store: one SQLite file holding the journals of any number of runs.

WAL mode with ``synchronous=NORMAL``: a committed transaction survives the process being
killed; a power cut may lose the last transactions but never corrupts the file. Each bar that
appended entries is one row, and rows are committed in batches on bar boundaries (see
:mod:`simpletrader.ledger.store.writer`), so a killed run leaves whole bars only, an exact
prefix of its journal; :meth:`Store.verify` checks exactly that.

Every SQLite failure surfaces as :class:`~simpletrader.core.errors.StoreError` naming the file.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from simpletrader.core.errors import StoreError
from simpletrader.journal.codec import (
    DECODE_ERRORS,
    BarInfo,
    EntryRow,
    describe,
    new_run_hasher,
)
from simpletrader.journal.events import JournalEvent
from simpletrader.ledger.ledger import Ledger
from simpletrader.ledger.store.rows import BarReader, plain, unpack
from simpletrader.ledger.store.schema import (
    RUN_SHIFT,
    SCHEMA_VERSION,
    RunStatus,
    check_file,
    check_schema,
    create_schema,
    now_text,
)
from simpletrader.ledger.store.writer import FactSource, RunWriter

if TYPE_CHECKING:
    from simpletrader.data.bars import Bars

logger = logging.getLogger(__name__)

_MASK = (1 << RUN_SHIFT) - 1
PAGE_SIZE = 65536
_ROW_COLUMNS = f"b.k & {_MASK}, b.first_seq, b.meta, b.payloads"


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


def _close_series(closes: Mapping[str, Any], info: RunInfo) -> dict[str, npt.NDArray[np.float64]]:
    """``closes`` as float arrays, one per symbol of the run, each covering its bars."""
    missing = sorted(set(info.multipliers) - set(closes))
    if missing:
        raise ValueError(f"closes: no series for {', '.join(missing)} (run {info.run_id})")
    out = {}
    for symbol, values in closes.items():
        try:
            array = np.ascontiguousarray(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"closes[{symbol!r}]: not a series of numbers ({exc})") from None
        if array.ndim != 1 or len(array) < info.n_bars:
            raise ValueError(
                f"closes[{symbol!r}]: {array.shape} values for a run of {info.n_bars} bars"
            )
        out[symbol] = array
    return out


def _package_version() -> str:
    try:
        return version("simpletrader")
    except PackageNotFoundError:
        return "unknown"


class Store:
    """A simpletrader store file. ``create=True`` makes a new one if the path does not exist.

    Use as a context manager, or call :meth:`close`. One ``Store`` is used from one thread.
    """

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        self.closed = False
        self._bar_readers: dict[int, BarReader] = {}
        new = check_file(self.path, create=create)
        with self._guard("open it"):
            self._conn = self._connect(create)
        try:
            with self._guard("open"):
                if new or check_schema(self._conn, self.path, create=create):
                    # Before anything is written: a bar's row is a few KB, and 4 KB pages
                    # would hold one row each, half empty.
                    self._conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
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
                raise self._corrupt(detail, what) from None
            raise StoreError(f"{self.path}: cannot {what}: {detail}") from None
        except UnicodeDecodeError as exc:  # SQLite's own message, garbled by a damaged header
            raise self._corrupt(str(exc), what) from None

    @contextmanager
    def _decoding(self, what: str) -> Iterator[None]:
        """Turn a stored value that does not decode into ``StoreError``: the file is damaged."""
        try:
            yield
        except DECODE_ERRORS as exc:
            raise self._corrupt(f"a stored value does not decode: {describe(exc)}", what) from None

    def _corrupt(self, detail: str, what: str) -> StoreError:
        return StoreError(
            f"{self.path} is corrupt ({detail}) while trying to {what}; "
            "restore it from a copy or start a new store"
        )

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
        commit_seconds: float | None = None,
        commit_entries: int | None = None,
    ) -> RunWriter:
        """Record a new run (status RUNNING) and return the journal sink that writes it.

        ``blueprint`` is the blueprint as JSON or YAML text; ``bars`` the run's aligned bars
        (the first symbol is the clock); ``facts`` where the fact values of each bar are read.
        The writer commits when ``commit_seconds`` have passed since its last commit or
        ``commit_entries`` entries wait (``commit_seconds=0``: every bar); by default
        :data:`~simpletrader.ledger.store.writer.COMMIT_SECONDS` and ``COMMIT_ENTRIES``.
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
                    now_text(),
                ),
            )
        key = cursor.lastrowid
        assert key is not None
        return RunWriter(
            self,
            key,
            run_id,
            bars,
            facts,
            base=key << RUN_SHIFT,
            commit_seconds=commit_seconds,
            commit_entries=commit_entries,
        )

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
            with self._decoding("list its runs"):
                out.append(self._run_info(row))
        return out

    def _run_info(self, row: Sequence[Any]) -> RunInfo:
        bars, entries = row[13], row[14]
        if bars is None:  # still running, or killed: count what was committed
            bars, entries = self._committed(row[0])
        return RunInfo(
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

    def _committed(self, key: int) -> tuple[int, int]:
        """(bars, entries) committed by a run, read from its last row."""
        with self._guard("count a run's entries"):
            last = self._conn.execute(
                "SELECT ordinal, first_seq + n - 1 FROM bars WHERE k BETWEEN ? AND ? "
                "ORDER BY k DESC LIMIT 1",
                (key << RUN_SHIFT, (key << RUN_SHIFT) | _MASK),
            ).fetchone()
        return (0, 0) if last is None else (int(last[0]), int(last[1]))

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
        """The entries of the ``bars`` rows ``sql`` selects (``_ROW_COLUMNS``), in order."""
        out: list[EntryRow] = []
        with self._guard(what), self._decoding(what):
            for row in self._conn.execute(sql, params):
                out.extend(unpack(*row))
        return out

    def entries(self, run_id: str, kinds: Sequence[str] | None = None) -> Iterator[EntryRow]:
        """The run's committed entries in sequence order (optionally only those of ``kinds``)."""
        key, _ = self._key(run_id)
        wanted = None if kinds is None else frozenset(kinds)
        with self._guard("read the journal"):
            cursor = self._conn.execute(
                f"SELECT {_ROW_COLUMNS} FROM bars b WHERE b.k BETWEEN ? AND ? ORDER BY b.k",
                (key << RUN_SHIFT, (key << RUN_SHIFT) | _MASK),
            )
            while batch := cursor.fetchmany(1024):
                for row in batch:
                    with self._decoding("read the journal"):
                        unpacked = unpack(*row)
                    for entry in unpacked:
                        if wanted is None or entry.kind in wanted:
                            yield entry

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
        # Checked first: what goes wrong past this point is the file's, not the caller's.
        series = None if closes is None else _close_series(closes, info)
        # Entries that decode but contradict each other (an order of an unknown group) can only
        # come from a damaged file: the journal the run wrote replays.
        with self._decoding(f"rebuild the ledger of run {run_id}"):
            if series is None:
                ledger = Ledger(info.starting_cash, info.multipliers)
                ledger.replay(event for _, event in self.bar_events(run_id))
                return ledger
            return Ledger.rebuild(
                self.bar_events(run_id), info.starting_cash, info.multipliers, series, info.n_bars
            )

    def bar(self, run_id: str, bar: int) -> BarInfo | None:
        """The committed bar ``bar`` of a run, or None if it appended nothing."""
        key, _ = self._key(run_id)
        return self._bar(key, bar)

    def _bar(self, key: int, bar: int) -> BarInfo | None:
        with self._guard("read a bar"):
            row = self._conn.execute(
                "SELECT first_seq, n, bar_end FROM bars WHERE k = ?", ((key << RUN_SHIFT) + bar,)
            ).fetchone()
            if row is None:
                return None
            reader = self._bar_readers.get(key)
            if reader is None:
                (layout,) = self._conn.execute(
                    "SELECT bar_layout FROM runs WHERE run = ?", (key,)
                ).fetchone()
                with self._decoding("read a bar"):
                    reader = self._bar_readers[key] = BarReader(layout)
        with self._decoding(f"read bar {bar}"):
            return reader.read(bar, *row)

    def verify(self, run_id: str) -> VerifyReport:
        """Check the run's journal is whole: an exact prefix of whole bars, nothing else.

        Sequence numbers must run from 1 without a gap, bar after bar; each row must hold as
        many kinds, ids, refs and payloads as it says it has entries, and count its place.
        For a run that finished, the entries must also hash to the ``run_hash`` it recorded,
        so a changed byte in any entry is found (SQLite keeps no checksums of its own).
        """
        key, _ = self._key(run_id)
        recorded = self.run(run_id).run_hash
        hasher = new_run_hasher()
        lo = key << RUN_SHIFT
        problems: list[str] = []
        bars = rows = 0
        last_seq = 0
        with self._guard("verify a run"), self._decoding("verify a run"):
            cursor = self._conn.execute(
                f"SELECT k & {_MASK}, ordinal, first_seq, n, meta, payloads FROM bars "
                "WHERE k BETWEEN ? AND ? ORDER BY k",
                (lo, lo | _MASK),
            )
            while batch := cursor.fetchmany(1024):
                for bar, ordinal, first, n, meta, payloads in batch:
                    bars += 1
                    if first != last_seq + 1:
                        problems.append(f"bar {bar} starts at seq {first}, after seq {last_seq}")
                    if ordinal != bars:
                        problems.append(f"bar {bar} is numbered {ordinal}, not {bars}")
                    try:
                        kinds = json.loads(meta)[::3]
                        fields = 3 * len(kinds)
                    except DECODE_ERRORS:
                        kinds, fields = [], -1
                    texts = payloads.split("\n") if isinstance(payloads, str) else []
                    held = len(texts) if texts else -1
                    if n < 1 or fields != 3 * n or held != n:
                        problems.append(
                            f"bar {bar} says {n} entries but holds {fields} kind/id/ref fields "
                            f"and {held} payloads"
                        )
                    elif recorded is not None:
                        hasher.update(
                            "".join(
                                [f"{k}\t{t}\n" for k, t in zip(kinds, texts, strict=True)]
                            ).encode()
                        )
                    rows += n
                    last_seq = first + n - 1
                if len(problems) > 20:
                    break
        if recorded is not None and not problems and hasher.hexdigest() != recorded:
            problems.append(
                f"the entries hash to {hasher.hexdigest()}, not to the run_hash {recorded} the "
                "run recorded: an entry was changed after it was written"
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

        The first time a run that has ended is explained, its id and ref indexes are built
        (in bulk: a few seconds for a million-bar run); a run still going, or killed, is
        scanned instead.
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
                        for table, column, part in (
                            ("entry_ids", "id", 1),
                            ("entry_refs", "ref", 2),
                        ):
                            conn.execute(
                                f"INSERT INTO {table} (run, {column}, seq, bar) "
                                f"SELECT ?, m.value, b.first_seq + m.key / 3, b.k & {_MASK} "
                                "FROM bars b, json_each(b.meta) m WHERE b.k BETWEEN ? AND ? "
                                "AND m.key % 3 = ? AND m.value != '' ORDER BY 2, 3",
                                (key, lo, hi, part),
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
    run that is still going (or was killed) they scan the run's rows instead.
    """

    def __init__(self, store: Store, run_id: str, key: int, indexed: bool) -> None:
        self.store = store
        self.run_id = run_id
        self._key = key
        self._indexed = indexed
        self._lo = key << RUN_SHIFT
        self._hi = self._lo | _MASK
        self._bars: dict[int, BarInfo | None] = {}

    def _lookup(self, column: str, value: str) -> list[EntryRow]:
        """Entries whose ``column`` (id or ref) is ``value``, in sequence order."""
        if self._indexed:
            sql = (
                f"SELECT {_ROW_COLUMNS} FROM bars b WHERE b.k IN "
                f"(SELECT ? + i.bar FROM entry_{column}s i WHERE i.run = ? AND i.{column} = ?) "
                "ORDER BY b.k"
            )
            params: tuple[object, ...] = (self._lo, self._key, value)
        elif plain(value):  # only rows whose meta holds the quoted text need unpacking
            sql = (
                f"SELECT {_ROW_COLUMNS} FROM bars b WHERE b.k BETWEEN ? AND ? "
                "AND instr(b.meta, ?) > 0 ORDER BY b.k"
            )
            params = (self._lo, self._hi, f'"{value}"')
        else:
            sql = f"SELECT {_ROW_COLUMNS} FROM bars b WHERE b.k BETWEEN ? AND ? ORDER BY b.k"
            params = (self._lo, self._hi)
        rows = self.store._rows("look up an id", sql, params)
        if column == "id":
            return [r for r in rows if r.id == value]
        return [r for r in rows if r.ref == value]

    def by_id(self, entry_id: str) -> list[EntryRow]:
        """Entries filed under ``entry_id``, in sequence order."""
        return self._lookup("id", entry_id)

    def by_ref(self, ref: str) -> list[EntryRow]:
        """Entries that belong to the record ``ref``, in sequence order."""
        return self._lookup("ref", ref)

    def in_bar(self, bar: int) -> list[EntryRow]:
        """The entries bar ``bar`` committed."""
        return self.store._rows(
            "read a bar", f"SELECT {_ROW_COLUMNS} FROM bars b WHERE b.k = ?", (self._lo + bar,)
        )

    def mentioning(self, text: str, kind: str) -> list[EntryRow]:
        """Entries of ``kind`` whose payload contains ``text`` (a scan of the run)."""
        rows = self.store._rows(
            "search the journal",
            f"SELECT {_ROW_COLUMNS} FROM bars b WHERE b.k BETWEEN ? AND ? "
            "AND instr(b.payloads, ?) > 0 ORDER BY b.k",
            (self._lo, self._hi, text),
        )
        return [r for r in rows if r.kind == kind and text in r.payload]

    def ids_with_prefix(self, prefix: str) -> list[str]:
        """Every distinct primary id of the run that starts with ``prefix + '_'``."""
        if self._indexed:
            with self.store._guard("list ids"):
                return [
                    r[0]
                    for r in self.store._conn.execute(
                        "SELECT DISTINCT id FROM entry_ids WHERE run = ? AND id >= ? AND id < ?",
                        (self._key, prefix + "_", prefix + "`"),
                    )
                ]
        rows = self.store._rows(
            "list ids",
            f"SELECT {_ROW_COLUMNS} FROM bars b WHERE b.k BETWEEN ? AND ? ORDER BY b.k",
            (self._lo, self._hi),
        )
        start = prefix + "_"
        return sorted({r.id for r in rows if r.id.startswith(start)})

    def bar_info(self, bar: int) -> BarInfo | None:
        """The committed bar ``bar`` (its prices and facts), or None."""
        if bar not in self._bars:
            self._bars[bar] = self.store._bar(self._key, bar)
        return self._bars[bar]


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
