"""Fixtures for the market-data tests: small CSV files written into a temporary directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

HEADER = "timestamp,open,high,low,close,volume"


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write a CSV into ``tmp_path`` and return its path.

    ``write_csv(*lines, header=HEADER, name="bars.csv")``: the header line (``header=None``
    for none) followed by ``lines``, each ended by a newline.
    """

    def write(*lines: str, header: str | None = HEADER, name: str = "bars.csv") -> Path:
        path = tmp_path / name
        text = "\n".join(([header] if header is not None else []) + list(lines))
        path.write_text(text + ("\n" if text else ""), encoding="utf-8")
        return path

    return write
