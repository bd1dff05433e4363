"""The SQLite store's schema, its version, and the checks made when a file is opened.

A store identifies itself in the SQLite header: ``application_id`` is :data:`APPLICATION_ID`
and ``user_version`` the schema version, both also kept in ``store_meta``. Opening refuses,
with a :class:`~simpletrader.core.errors.StoreError` naming the file, anything that is not a
simpletrader store of a version this code reads: a non-SQLite file, a truncated one, another
application's database, a newer schema.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from simpletrader.core.errors import StoreError

SCHEMA_VERSION = 1
"""The version this code writes and reads. Bump it (and add a migration) on any DDL change."""

APPLICATION_ID = 0x53545244
"""``PRAGMA application_id`` of a simpletrader store (ASCII ``STRD``)."""

FORMAT_NAME = "simpletrader-store"

SQLITE_MAGIC = b"SQLite format 3\x00"

RUN_SHIFT = 40
"""Entry keys are ``run << RUN_SHIFT | seq``: one integer B-tree key, runs in ranges."""

# Version 1. ``runs`` has one row per run (``run`` is its integer key, ``run_id`` the RUN id).
# ``entries`` holds journal entries keyed by ``k = run << 40 | seq``, so each run's entries are
# one contiguous range of the table even when several processes write runs at once. The last
# entry a bar committed carries ``bar_end``: the bar's open time, prices and fact values as JSON.
# It is the commit marker: written in the same transaction as the bar's other entries, a row
# with it ends every committed bar, and in one B-tree with them, so each per-bar transaction
# touches as few pages as possible. ``entry_ids``, ``entry_refs`` and ``entry_bars`` index the
# entries by id, by the id they belong to and by bar; they are filled in bulk the first time a
# finished run is explained (an index maintained per insert would rewrite several more pages in
# every per-bar transaction, and building it at the end of every run would tax runs never
# explained). ``journal`` is a view with the run id and sequence number spelled out.
DDL_V1 = (
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
        indexed INTEGER NOT NULL DEFAULT 0
    )
    """,
    """
    CREATE TABLE entries (
        k INTEGER PRIMARY KEY,
        bar INTEGER NOT NULL,
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        ref TEXT,
        payload TEXT NOT NULL,
        bar_end TEXT
    )
    """,
    """
    CREATE TABLE entry_ids (
        run INTEGER NOT NULL,
        id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (run, id, seq)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE entry_refs (
        run INTEGER NOT NULL,
        ref TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (run, ref, seq)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE entry_bars (
        run INTEGER NOT NULL,
        bar INTEGER NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        PRIMARY KEY (run, bar)
    ) WITHOUT ROWID
    """,
    """
    CREATE VIEW journal AS
    SELECT r.run_id AS run_id, e.k & 1099511627775 AS seq, e.bar AS bar, e.kind AS kind,
           e.id AS id, e.ref AS ref, e.payload AS payload, e.bar_end AS bar_end
    FROM entries e JOIN runs r ON r.run = e.k >> 40
    """,
)
TABLES_V1 = frozenset({"store_meta", "runs", "entries", "entry_ids", "entry_refs", "entry_bars"})


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
    missing = TABLES_V1 - set(tables)
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
    """Create the version-1 schema in an empty database (one transaction)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID:
            conn.execute("COMMIT")  # another process created it while we were checking
            return
        for statement in DDL_V1:
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
