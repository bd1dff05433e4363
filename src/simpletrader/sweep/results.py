"""The sweep's results table: one row per run, sorted, written as Parquet or CSV.

Columns: ``run`` (grid order), the labels (``symbol``, walk-forward ``window``), one column per
swept path, the metrics, ``bars``, ``run_hash``, ``error`` (None when the run succeeded) and
``seconds`` (the task's own run time).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import pandas as pd

from simpletrader.core.errors import ConfigError
from simpletrader.sweep.metrics import METRICS
from simpletrader.sweep.tasks import Row

TAIL_COLUMNS: tuple[str, ...] = (*METRICS, "bars", "run_hash", "error", "seconds")
FORMATS: tuple[str, ...] = (".parquet", ".csv")


def columns(labels: Sequence[str], paths: Sequence[str]) -> list[str]:
    """The table's columns, in order."""
    return ["run", *labels, *paths, *TAIL_COLUMNS]


def check_sort(metric: str) -> None:
    if metric not in METRICS:
        raise ConfigError(f"--sort {metric!r} is not a metric; valid: {', '.join(METRICS)}")


def check_out(path: Path | None) -> None:
    """Fail before the sweep for an output the table cannot be written to."""
    if path is None:
        return
    if path.suffix.lower() not in FORMATS:
        raise ConfigError(
            f"--out {path}: unknown format {path.suffix or '(no extension)'!r}; "
            f"use a name ending in {' or '.join(FORMATS)}"
        )
    if path.suffix.lower() == ".parquet":
        from importlib.util import find_spec

        if find_spec("pyarrow") is None:
            raise ConfigError(
                f"--out {path}: Parquet needs pyarrow (pip install 'simpletrader[parquet]'); "
                f"or write CSV"
            )
    if not path.parent.exists():
        raise ConfigError(f"--out {path}: folder {path.parent} does not exist")


def to_frame(rows: Sequence[Row], cols: Sequence[str], sort: str) -> pd.DataFrame:
    """The rows as a table sorted by ``sort`` (best first; ties and failures by ``run``)."""
    frame = pd.DataFrame([{c: row.get(c) for c in cols} for row in rows], columns=list(cols))
    return sort_frame(frame, sort)


def sort_frame(frame: pd.DataFrame, sort: str) -> pd.DataFrame:
    """Best ``sort`` first, NaN (failed or undefined) last, ties in ``run`` order."""
    if frame.empty:
        return frame.reset_index(drop=True)
    ordered = frame.sort_values("run", kind="stable").sort_values(
        sort, ascending=False, na_position="last", kind="stable"
    )
    return ordered.reset_index(drop=True)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as Parquet or CSV, chosen by the file's extension."""
    if path.suffix.lower() == ".parquet":
        table = frame.copy()
        for column in table.columns:
            # Mixed or None-only object columns (error, swept values) as text: Parquet needs
            # one type per column.
            if table[column].dtype == object:
                table[column] = [None if v is None else str(v) for v in table[column]]
        table.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


class CsvAppender:
    """Appends each finished row to a CSV at once, so a killed sweep still leaves its rows;
    :func:`write_table` rewrites the file sorted at the end."""

    def __init__(self, path: Path, cols: Sequence[str]) -> None:
        self._file: IO[str] = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._file, fieldnames=list(cols), extrasaction="ignore")
        self._writer.writeheader()
        self._file.flush()

    def add(self, row: Row) -> None:
        self._writer.writerow({k: _cell(v) for k, v in row.items()})
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _cell(value: Any) -> Any:
    return "" if value is None else value
