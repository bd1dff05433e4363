"""The SQLite store: journals of many runs in one file, one row per active bar, whole bars
per transaction.

See ``docs/journal.md`` for the schema and its versioning.
"""

from simpletrader.ledger.store.recording import headline_figures, start_recording
from simpletrader.ledger.store.schema import APPLICATION_ID, SCHEMA_VERSION
from simpletrader.ledger.store.sqlite import (
    BarInfo,
    FactSource,
    RunInfo,
    RunStatus,
    RunWriter,
    Store,
    StoreRunSource,
    VerifyReport,
)

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "BarInfo",
    "FactSource",
    "RunInfo",
    "RunStatus",
    "RunWriter",
    "Store",
    "StoreRunSource",
    "VerifyReport",
    "headline_figures",
    "start_recording",
]
