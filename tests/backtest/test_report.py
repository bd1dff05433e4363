"""The HTML report and the PNG plot, built in process (the browser test is in tests/e2e)."""

from __future__ import annotations

import builtins
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import simpletrader
from simpletrader.backtest import report
from simpletrader.backtest.report import envelope, render
from simpletrader.backtest.result import Result
from simpletrader.core.errors import DependencyError


@pytest.fixture(scope="module")
def result() -> Result:
    return simpletrader.backtest()


@pytest.fixture(scope="module")
def document(result: Result) -> str:
    return render(result)


def test_report_is_one_self_contained_document(document: str) -> None:
    assert document.startswith("<!DOCTYPE html>")
    # plotly.js is inlined, and nothing is loaded from elsewhere.
    assert "Plotly.newPlot" in document
    assert len(document) > 3_000_000
    assert not re.search(r"""<(script|link)[^>]+(src|href)=["']?(https?:)?//""", document)


def test_report_has_every_section(document: str, result: Result) -> None:
    for anchor in ('id="price"', 'id="equity"', 'id="metrics"', 'id="trades"', 'id="batches"'):
        assert anchor in document
    assert 'id="price-0"' in document
    assert 'id="equity-chart"' in document
    for label in ("Sharpe ratio", "Max drawdown duration", "Profit factor", "Buy &amp; hold"):
        assert label in document
    first = result.trades["trade_plan_id"].iloc[0]
    assert first in document
    assert result.batches["batch_id"].iloc[-1] in document
    assert "marked to the last close" in document
    assert result.run_hash in document
    assert ">nan<" not in document


def test_envelope_thins_a_long_series_but_keeps_every_extreme() -> None:
    rng = np.random.default_rng(1)
    values = np.cumsum(rng.normal(size=100_000))
    keep = envelope(values, points=1_000)
    assert len(keep) <= 3_001
    assert np.all(np.diff(keep) > 0)
    assert values[keep].max() == values.max()
    assert values[keep].min() == values.min()
    assert keep[0] == 0
    assert keep[-1] == len(values) - 1
    short = np.arange(10.0)
    assert list(envelope(short, points=1_000)) == list(range(10))


def test_long_runs_are_drawn_thinned_with_capped_markers_and_say_so(
    result: Result, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "CANDLE_LIMIT", 100)
    monkeypatch.setattr(report, "CHART_POINTS", 200)
    monkeypatch.setattr(report, "MARKER_LIMIT", 5)
    fig, note = report.price_figure(result, "GOOG")
    line, entries, exits = fig.data
    assert line.type == "scatter"
    assert 200 < len(line.x) < 2148
    assert len(entries.x) == 5
    assert len(exits.x) == 4  # the latest trade is still open
    assert f"markers for the latest 5 of {len(result.trades)} trades" in note
    assert "price thinned to" in note
    _, equity_note = report.equity_figure(result)
    assert equity_note.startswith("thinned to")


def test_report_without_plotly_says_which_extra_to_install(
    result: Result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_plotly(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("plotly"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_plotly)
    with pytest.raises(DependencyError, match=r"pip install 'simpletrader\[report\]'"):
        result.report(tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_report_writes_the_file_and_creates_folders(result: Result, tmp_path: Path) -> None:
    path = result.report(tmp_path / "out" / "report.html")
    assert path == tmp_path / "out" / "report.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_plot_writes_a_png(result: Result, tmp_path: Path) -> None:
    path = result.plot(tmp_path / "equity.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1320, 720)
