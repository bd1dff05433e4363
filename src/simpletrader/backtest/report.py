"""The HTML report: one self-contained file (plotly.js inlined, so it opens offline).

Price with entries and exits, equity against buy-and-hold with the drawdown beneath, the
metrics, the trades, and the batches with mode, outcome, orders sent and reason. Needs the
``report`` extra (plotly). Long runs are thinned for the charts (a min/max envelope keeps
every extreme) and long tables are cut, each with a note saying so; the numbers are always
computed on all bars. Everything covers the traded period: warm-up bars (``data.warmup_bars``)
are left out, as they are of the metrics.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from simpletrader.backtest.summary import duration, number, percent, summary_rows
from simpletrader.core.errors import DependencyError

if TYPE_CHECKING:
    from simpletrader.backtest.result import Result

CANDLE_LIMIT = 3_000
"""Up to this many bars the price is drawn as candles; beyond, as a thinned close line."""
CHART_POINTS = 4_000
"""Chart series longer than this are thinned to about twice as many points (min and max)."""
MARKER_LIMIT = 2_000
"""At most this many trades (the latest) get entry/exit markers on the price chart."""
TABLE_LIMIT = 500
"""At most this many rows (the latest) in the trades and batches tables."""

GREEN = "#15803d"
RED = "#b91c1c"
BLUE = "#1d4ed8"
GREY = "#6b7280"


def _plotly() -> Any:
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise DependencyError(
            "the HTML report needs plotly: pip install 'simpletrader[report]'"
        ) from None
    return go


def _naive(ns: npt.NDArray[np.int64]) -> npt.NDArray[np.datetime64]:
    """UTC nanoseconds as naive datetime64 (the charts say UTC on the axis)."""
    return np.asarray(ns, dtype=np.int64).astype("datetime64[ns]")


def envelope(values: npt.NDArray[np.float64], points: int | None = None) -> npt.NDArray[np.int64]:
    """Indexes that keep each bucket's first, minimum and maximum value, in time order, so a
    thinned line still reaches every peak and trough. All indexes when short enough.

    ``points`` is the number of buckets (default :data:`CHART_POINTS`).
    """
    points = CHART_POINTS if points is None else points
    n = len(values)
    if n <= 2 * points:
        return np.arange(n, dtype=np.int64)
    size = -(-n // points)
    starts = np.arange(0, n, size, dtype=np.int64)
    padded = np.append(values, np.full(len(starts) * size - n, np.nan))
    blocks = padded.reshape(-1, size)
    lows = starts + np.nanargmin(blocks, axis=1)
    highs = starts + np.nanargmax(blocks, axis=1)
    keep = np.unique(np.concatenate((starts, lows, highs, [n - 1])))
    return keep


def _figure_html(fig: Any, div_id: str) -> str:
    return str(
        fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=div_id,
            config={"displaylogo": False, "responsive": True},
        )
    )


def _layout(fig: Any, height: int) -> None:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 20, "t": 30, "b": 40},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        hovermode="x unified",
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
    )


def price_figure(result: Result, symbol: str) -> tuple[Any, str]:
    """Price of ``symbol`` with entries and exits; returns the figure and a note (or "")."""
    go = _plotly()
    bars = result.bars[symbol]
    ts = np.asarray(bars.timestamps, dtype=np.int64)
    close = np.asarray(bars.close, dtype=np.float64)
    notes: list[str] = []
    fig = go.Figure()
    if len(ts) <= CANDLE_LIMIT:
        fig.add_trace(
            go.Candlestick(
                x=_naive(ts),
                open=np.asarray(bars.open),
                high=np.asarray(bars.high),
                low=np.asarray(bars.low),
                close=close,
                name=symbol,
                increasing={"line": {"color": "#64748b"}, "fillcolor": "#cbd5e1"},
                decreasing={"line": {"color": "#334155"}, "fillcolor": "#334155"},
            )
        )
        fig.update_layout(xaxis_rangeslider_visible=False)
    else:
        keep = envelope(close)
        fig.add_trace(
            go.Scatter(
                x=_naive(ts[keep]),
                y=close[keep],
                mode="lines",
                name=f"{symbol} close",
                line={"color": "#475569", "width": 1},
            )
        )
        if len(keep) < len(ts):
            notes.append(f"price thinned to {len(keep):,} of {len(ts):,} points (min/max kept)")
    trades = result.trades
    trades = trades[trades["symbol"] == symbol]
    if len(trades) > MARKER_LIMIT:
        notes.append(f"markers for the latest {MARKER_LIMIT:,} of {len(trades):,} trades")
        trades = trades.tail(MARKER_LIMIT)
    if len(trades):
        long = trades["direction"].to_numpy() == "LONG"
        entry_x = _naive(trades["entry_time"].dt.tz_convert(None).to_numpy().astype(np.int64))
        hover = [
            f"{tid}<br>{d} {q:g} @ {p:,.4g}"
            for tid, d, q, p in zip(
                trades["trade_plan_id"],
                trades["direction"],
                trades["quantity"],
                trades["entry_price"],
                strict=True,
            )
        ]
        fig.add_trace(
            go.Scatter(
                x=entry_x,
                y=trades["entry_price"].to_numpy(),
                mode="markers",
                name="entry",
                marker={
                    "symbol": np.where(long, "triangle-up", "triangle-down"),
                    "size": 10,
                    "color": BLUE,
                    "line": {"width": 1, "color": "white"},
                },
                text=hover,
                hovertemplate="entry %{text}<extra></extra>",
            )
        )
        closed = trades[trades["status"] == "CLOSED"]
        if len(closed):
            pnl = closed["pnl"].to_numpy()
            exit_x = _naive(closed["exit_time"].dt.tz_convert(None).to_numpy().astype(np.int64))
            exit_hover = [
                f"{tid}<br>P&L {v:,.2f} ({r:+.2%})"
                for tid, v, r in zip(
                    closed["trade_plan_id"], pnl, closed["return"].to_numpy(), strict=True
                )
            ]
            fig.add_trace(
                go.Scatter(
                    x=exit_x,
                    y=closed["exit_price"].to_numpy(),
                    mode="markers",
                    name="exit",
                    marker={
                        "symbol": "x",
                        "size": 9,
                        "color": np.where(pnl > 0, GREEN, RED),
                        "line": {"width": 1, "color": "white"},
                    },
                    text=exit_hover,
                    hovertemplate="exit %{text}<extra></extra>",
                )
            )
    _layout(fig, 420)
    fig.update_xaxes(title_text="time (UTC)")
    fig.update_yaxes(title_text=f"{symbol} price")
    return fig, "; ".join(notes)


def equity_figure(result: Result) -> tuple[Any, str]:
    """Equity with buy-and-hold for comparison, and the drawdown beneath (shared time axis)."""
    go = _plotly()
    from plotly.subplots import make_subplots

    eq = result.equity
    ts = next(iter(result.bars.values())).timestamps
    values = eq["equity"].to_numpy()
    drawdown = eq["drawdown"].to_numpy()
    keep = np.unique(np.concatenate((envelope(values), envelope(drawdown))))
    x = _naive(np.asarray(ts, dtype=np.int64)[keep])
    closes = [np.asarray(b.close, dtype=np.float64) for b in result.bars.values()]
    hold = result.starting_cash * np.mean([c / c[0] for c in closes], axis=0)
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.04
    )
    fig.add_trace(
        go.Scatter(
            x=x, y=values[keep], mode="lines", name="equity", line={"color": BLUE, "width": 1.6}
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=hold[keep],
            mode="lines",
            name="buy & hold",
            line={"color": GREY, "width": 1, "dash": "dot"},
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=drawdown[keep] * 100,
            mode="lines",
            name="drawdown",
            fill="tozeroy",
            line={"color": RED, "width": 1},
            fillcolor="rgba(185, 28, 28, 0.25)",
        ),
        row=2,
        col=1,
    )
    _layout(fig, 520)
    fig.update_yaxes(title_text="equity", row=1, col=1)
    fig.update_yaxes(title_text="drawdown %", row=2, col=1)
    fig.update_xaxes(title_text="time (UTC)", row=2, col=1)
    note = "" if len(keep) == len(values) else f"thinned to {len(keep):,} of {len(values):,} points"
    return fig, note


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def metrics_html(result: Result) -> str:
    """The metrics as an HTML table, one section per group."""
    parts = []
    for section, rows in summary_rows(result):
        parts.append(f'<tr class="section"><th colspan="2">{html.escape(section)}</th></tr>')
        parts.extend(
            f"<tr><td>{html.escape(label)}</td><td class='num'>{html.escape(value)}</td></tr>"
            for label, value in rows
        )
    return f'<table class="metrics">{"".join(parts)}</table>'


def _time(value: Any) -> str:
    return "" if pd.isna(value) else f"{value:%Y-%m-%d %H:%M}"


def trades_html(result: Result) -> tuple[str, str]:
    trades = result.trades
    note = ""
    if len(trades) > TABLE_LIMIT:
        note = f"the latest {TABLE_LIMIT:,} of {len(trades):,} trades"
        trades = trades.tail(TABLE_LIMIT)
    rows = [
        (
            r["trade_plan_id"],
            r["symbol"],
            r["direction"],
            r["status"],
            _time(r["entry_time"]),
            _time(r["exit_time"]),
            f"{r['entry_price']:,.4g}",
            "" if pd.isna(r["exit_price"]) else f"{r['exit_price']:,.4g}",
            f"{r['quantity']:g}",
            number(r["pnl"]),
            percent(r["return"]),
            percent(r["mae"]),
            percent(r["mfe"]),
            duration(r["duration"].total_seconds() / 86_400),
        )
        for r in trades.to_dict("records")
    ]
    headers = (
        "trade plan",
        "symbol",
        "dir",
        "status",
        "entry (UTC)",
        "exit (UTC)",
        "entry price",
        "exit price",
        "qty",
        "P&L",
        "return",
        "MAE",
        "MFE",
        "held",
    )
    return _table(headers, rows, "trades"), note


def batches_html(result: Result) -> tuple[str, str, str]:
    """The outcome counts per mode, the batch table, and a note."""
    counts = result.batch_outcomes
    outcome_rows = [
        (mode, *(str(c[k]) for k in ("completed", "partial", "failed", "open")))
        for mode, c in counts.items()
    ]
    outcomes = _table(("mode", "completed", "partial", "failed", "open"), outcome_rows, "outcomes")
    batches = result.batches
    note = ""
    if len(batches) > TABLE_LIMIT:
        # Every failure and partial stays visible; completed ones are cut to the latest.
        unusual = batches[batches["status"] != "COMPLETED"]
        rest = batches[batches["status"] == "COMPLETED"].tail(max(0, TABLE_LIMIT - len(unusual)))
        shown = pd.concat([unusual, rest]).sort_index()
        note = (
            f"{len(shown):,} of {len(batches):,} batches: every one not COMPLETED, then the latest"
        )
        batches = shown
    sent = orders_per_batch(result)
    rows = [
        (
            _time(b["ended_at"]) or "(open)",
            str(b["batch_id"]),
            str(b["mode"]),
            str(b["status"]),
            str(sent.get(str(b["batch_id"]), 0)),
            "" if pd.isna(b["reason"]) else str(b["reason"]),
        )
        for b in batches.to_dict("records")
    ]
    headers = ("ended (UTC)", "batch", "mode", "outcome", "orders", "reason")
    table = _table(headers, rows, "batches")
    return outcomes, table, note


def orders_per_batch(result: Result) -> dict[str, int]:
    """How many orders each batch sent: TWAP slices, iceberg clips and unwinds each count."""
    sent: dict[str, int] = {}
    for group in result.run.ledger.groups.values():
        if group.batch_id is not None:
            sent[group.batch_id] = sent.get(group.batch_id, 0) + len(group.order_ids)
    return sent


def _cards(result: Result) -> str:
    m = result.metrics
    cards = [
        ("Total return", percent(m["total_return"]), m["total_return"]),
        ("CAGR", percent(m["cagr"]), m["cagr"]),
        ("Sharpe", number(m["sharpe"]), m["sharpe"]),
        ("Max drawdown", percent(m["max_drawdown"]), None),
        ("Trades", str(m["trades"]), None),
        ("Win rate", percent(m["win_rate"], signed=False), None),
        ("Final equity", f"{result.final_equity:,.0f}", None),
    ]
    out = []
    for label, value, sign in cards:
        cls = "" if sign is None else (" up" if sign > 0 else " down" if sign < 0 else "")
        out.append(
            f'<div class="card"><div class="label">{html.escape(label)}</div>'
            f'<div class="value{cls}">{html.escape(value)}</div></div>'
        )
    return f'<div class="cards">{"".join(out)}</div>'


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>' if text else ""


CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
  background: #f8fafc; color: #0f172a; }
main { max-width: 1200px; margin: 0 auto; padding: 24px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 2px 0; color: #475569; }
code { font-size: 12px; background: #e2e8f0; padding: 1px 4px; border-radius: 3px; }
section { background: white; border: 1px solid #e2e8f0; border-radius: 8px; padding: 16px;
  margin: 16px 0; }
section h2 { margin: 0 0 8px; font-size: 17px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px;
  margin: 16px 0; }
.card { background: white; border: 1px solid #e2e8f0; border-radius: 8px; padding: 10px 14px; }
.card .label { color: #64748b; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.up { color: #15803d; } .down { color: #b91c1c; }
.grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
@media (max-width: 900px) { .grid { grid-template-columns: 1fr; } }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid #f1f5f9; text-align: left;
  white-space: nowrap; }
thead th { position: sticky; top: 0; background: #f1f5f9; font-weight: 600; }
td.num, table.trades td:nth-child(n+7), table.outcomes td:nth-child(n+2) { text-align: right; }
tr.section th { background: #f1f5f9; text-transform: uppercase; font-size: 12px;
  letter-spacing: .04em; color: #475569; }
.scroll { max-height: 480px; overflow: auto; }
.note { color: #64748b; font-size: 12px; margin: 4px 0 0; }
pre { white-space: pre-wrap; word-break: break-all; margin: 0; }
"""


def render(result: Result) -> str:
    """The whole report as one HTML document."""
    _plotly()
    from plotly.offline import get_plotlyjs

    run = result.run
    bp = run.blueprint
    price_parts = []
    for k, symbol in enumerate(run.bars):
        fig, note = price_figure(result, symbol)
        price_parts.append(_figure_html(fig, f"price-{k}") + _note(note))
    equity_fig, equity_note = equity_figure(result)
    trades_table, trades_note = trades_html(result)
    outcomes, batch_table, batch_note = batches_html(result)
    manifest = json.dumps(result.manifest, indent=2)
    title = f"{bp.name} — simpletrader backtest"
    description = f"<p>{html.escape(bp.description)}</p>" if bp.description else ""
    period = f"{result.start:%Y-%m-%d} .. {result.end:%Y-%m-%d} UTC"
    open_positions = result.open_positions
    open_note = (
        f"{len(open_positions)} position(s) still open at the end, marked to the last close "
        "(status OPEN below)."
        if open_positions
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body>
<main>
<header>
<h1>{html.escape(bp.name)}</h1>
{description}
<p>{html.escape(period)} · {result.n_bars:,} bars · {", ".join(map(html.escape, run.bars))}
 · seed {result.seed} · run hash <code>{html.escape(result.run_hash)}</code></p>
</header>
{_cards(result)}
<section id="price"><h2>Price, entries and exits</h2>{"".join(price_parts)}</section>
<section id="equity"><h2>Equity and drawdown</h2>{_figure_html(equity_fig, "equity-chart")}
{_note(equity_note)}</section>
<div class="grid">
<section id="metrics"><h2>Metrics</h2>{metrics_html(result)}</section>
<section id="batch-outcomes"><h2>Batch outcomes per mode</h2>{outcomes}
<h2 style="margin-top:16px">Manifest</h2><pre><code>{html.escape(manifest)}</code></pre></section>
</div>
<section id="trades"><h2>Trades</h2>{_note(open_note)}<div class="scroll">{trades_table}</div>
{_note(trades_note)}</section>
<section id="batches"><h2>Batches</h2><div class="scroll">{batch_table}</div>
{_note(batch_note)}</section>
</main>
</body>
</html>
"""


def write_report(result: Result, path: Path) -> Path:
    """Write :func:`render`'s document to ``path`` (folders created) and return the path."""
    document = render(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    return path
