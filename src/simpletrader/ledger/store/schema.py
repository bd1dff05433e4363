"""The SQLite store's schema, its version, and the checks made when a file is opened.

A store identifies itself in the SQLite header: ``application_id`` is :data:`APPLICATION_ID`
and ``user_version`` the schema version, both also kept in ``store_meta``. Opening refuses,
with a :class:`~simpletrader.core.errors.StoreError` naming the file, anything that is not a
simpletrader store of a version this code reads: a non-SQLite file, a truncated one, another
application's database, a newer schema.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from simpletrader.core.errors import StoreError

SCHEMA_VERSION = 2
"""The version this code writes and reads. Bump it (and add a migration) on any DDL change.

Version 1 kept one row per journal entry; version 2 keeps one row per bar (see below)."""

APPLICATION_ID = 0x53545244
"""``PRAGMA application_id`` of a simpletrader store (ASCII ``STRD``)."""

FORMAT_NAME = "simpletrader-store"

SQLITE_MAGIC = b"SQLite format 3\x00"

RUN_SHIFT = 40
"""Bar keys are ``run << RUN_SHIFT | bar``: one integer B-tree key, runs in ranges."""

# Version 2. ``runs`` has one row per run (``run`` is its integer key, ``run_id`` the RUN id).
# ``bars`` has one row per committed bar that appended entries, keyed by
# ``k = run << 40 | bar``, so each run is one contiguous range of the table even when several
# processes write runs at once, and a bar is found by its number. A row holds the bar's
# entries: ``first_seq`` and ``n`` (their sequence numbers), ``meta`` (a JSON array of kind,
# id and ref of each entry in turn, ref '' when none), ``payloads`` (their compact JSON, one a
# line: compact JSON never holds a raw line break) and ``bar_end`` (the bar's open time,
# prices and fact values packed as binary numbers, laid out as ``runs.bar_layout`` says: see
# ``rows.py``); ``ordinal`` counts the run's rows so far. A row is written
# whole or not at all, so a store only ever holds whole bars; one row per bar instead of one
# per entry is what makes recording cheap (SQLite's cost is mostly per row and per commit).
# ``entry_ids`` and ``entry_refs`` index the entries by id and by the id they belong to,
# naming the entry's bar so its row is one key lookup away; they are filled in bulk the first
# time a finished run is explained (maintaining them per insert would cost every run, building
# them at the end of every run would tax runs never explained). ``journal`` is a view with one
# row per entry for ad-hoc SQL.
DDL_V2 = (
    """
    CREATE TABLE store_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE runs (
        run INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL UNIQUE,
        blueprint_name TEXT NOT NULL,
        blueprint TEXT NOT NULL,
        seed INTEGER NOT NULL,
        data_sources TEXT NOT NULL,
        instruments TEXT NOT NULL,
        starting_cash TEXT NOT NULL,
        period_start TEXT NOT NULL,
        period_end TEXT NOT NULL,
        n_bars INTEGER NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        committed_bars INTEGER,
        committed_entries INTEGER,
        run_hash TEXT,
        headline TEXT,
        error TEXT,
        indexed INTEGER NOT NULL DEFAULT 0,
        bar_layout TEXT
    )
    """,
    """
    CREATE TABLE bars (
        k INTEGER PRIMARY KEY,
        ordinal INTEGER NOT NULL,
        first_seq INTEGER NOT NULL,
        n INTEGER NOT NULL,
        meta TEXT NOT NULL,
        payloads TEXT NOT NULL,
        bar_end BLOB NOT NULL
    )
    """,
    """
    CREATE TABLE entry_ids (
        run INTEGER NOT NULL,
        id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        bar INTEGER NOT NULL,
        PRIMARY KEY (run, id, seq)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE entry_refs (
        run INTEGER NOT NULL,
        ref TEXT NOT NULL,
        seq INTEGER NOT NULL,
        bar INTEGER NOT NULL,
        PRIMARY KEY (run, ref, seq)
    ) WITHOUT ROWID
    """,
    """
    CREATE VIEW journal AS
    SELECT r.run_id AS run_id, b.first_seq + p.key AS seq, b.k & 1099511627775 AS bar,
           json_extract(b.meta, '$[' || (3 * p.key) || ']') AS kind,
           json_extract(b.meta, '$[' || (3 * p.key + 1) || ']') AS id,
           nullif(json_extract(b.meta, '$[' || (3 * p.key + 2) || ']'), '') AS ref,
           p.value AS payload
    FROM bars b JOIN runs r ON r.run = b.k >> 40,
         json_each('[' || replace(b.payloads, char(10), ',') || ']') p
    """,
)
TABLES_V2 = frozenset({"store_meta", "runs", "bars", "entry_ids", "entry_refs"})


class RunStatus(StrEnum):
    """A run's ``runs.status``."""

    RUNNING = "RUNNING"
    """Started and not finished: still running, or the process died (``Store.verify``)."""
    FINISHED = "FINISHED"
    FAILED = "FAILED"


def now_text() -> str:
    """The current UTC time as ``runs`` records it."""
    return datetime.now(UTC).isoformat()


def _header_problem(path: Path) -> str | None:
    """What is wrong with the file's SQLite header, judged from its bytes alone (or None)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        header = handle.read(100)
    if not header.startswith(SQLITE_MAGIC[: len(header)]) or (
        len(header) >= len(SQLITE_MAGIC) and not header.startswith(SQLITE_MAGIC)
    ):
        shown = header[:16]
        return f"not a SQLite database (it starts with {shown!r})"
    if size < 100:
        return f"truncated: {size} bytes, shorter than the 100-byte SQLite header"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    change_counter = header[24:28]
    valid_for = header[92:96]
    wal = path.with_name(path.name + "-wal")
    has_wal = wal.exists() and wal.stat().st_size > 0
    # The in-header page count is only meaningful when it was written with the current change
    # counter; with a live WAL the main file may legitimately lag behind (recovery fixes it).
    if not has_wal and change_counter == valid_for and size < pages * page_size:
        return (
            f"truncated: its header counts {pages} pages of {page_size} bytes "
            f"({pages * page_size} bytes) but the file has {size} bytes"
        )
    return None


def check_file(path: Path, *, create: bool) -> bool:
    """Check ``path`` before SQLite opens it; return True when it is absent or empty (new)."""
    if not path.exists():
        if not create:
            raise StoreError(f"store file not found: {path}")
        if not path.parent.is_dir():
            raise StoreError(f"cannot create store {path}: folder {path.parent} does not exist")
        return True
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a store file")
    if path.stat().st_size == 0:
        if not create:
            raise StoreError(f"{path} is empty: not a simpletrader store")
        return True
    problem = _header_problem(path)
    if problem is not None:
        raise StoreError(f"{path} is not a usable simpletrader store: {problem}")
    return False


def check_schema(conn: sqlite3.Connection, path: Path, *, create: bool) -> bool:
    """Check an opened database is a store of a version we read; True if it needs creating."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    if app_id != APPLICATION_ID:
        if not tables and app_id == 0 and version == 0:
            if not create:
                raise StoreError(f"{path} is an empty SQLite database, not a simpletrader store")
            return True
        listed = ", ".join(tables[:8]) + (", ..." if len(tables) > 8 else "") or "none"
        raise StoreError(
            f"{path} is a SQLite database of another application "
            f"(application_id {app_id:#x}, tables: {listed}), not a simpletrader store"
        )
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has store schema version {version}, newer than the version "
            f"{SCHEMA_VERSION} this simpletrader reads; upgrade simpletrader to open it"
        )
    if version < 1 or version < SCHEMA_VERSION:
        raise StoreError(
            f"{path} has store schema version {version}; this simpletrader reads version "
            f"{SCHEMA_VERSION} and has no migration from {version}"
        )
    missing = TABLES_V2 - set(tables)
    if missing:
        raise StoreError(
            f"{path} claims store schema version {version} but lacks tables "
            f"{', '.join(sorted(missing))}: it is damaged"
        )
    meta = dict(conn.execute("SELECT key, value FROM store_meta").fetchall())
    if meta.get("format") != FORMAT_NAME or meta.get("schema_version") != str(version):
        raise StoreError(
            f"{path}: store_meta says format={meta.get('format')!r} "
            f"schema_version={meta.get('schema_version')!r}, expected {FORMAT_NAME!r} and "
            f"{version}: the file is damaged"
        )
    return False


def create_schema(conn: sqlite3.Connection, created_by: str) -> None:
    """Create the current schema in an empty database (one transaction)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID:
            conn.execute("COMMIT")  # another process created it while we were checking
            return
        for statement in DDL_V2:
            conn.execute(statement)
        conn.executemany(
            "INSERT INTO store_meta (key, value) VALUES (?, ?)",
            [
                ("format", FORMAT_NAME),
                ("schema_version", str(SCHEMA_VERSION)),
                ("created_by", created_by),
            ],
        )
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
