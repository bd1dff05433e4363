"""``--plot equity.png``: the equity curve with buy-and-hold, and the drawdown beneath.

matplotlib with the Agg backend (the ``plot`` extra): no display, no browser, works offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simpletrader.core.errors import DependencyError

if TYPE_CHECKING:
    from simpletrader.backtest.result import Result


def write_plot(result: Result, path: Path, *, dpi: int = 120) -> Path:
    """Write the PNG to ``path`` (folders created) and return the path."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
        from matplotlib.ticker import StrMethodFormatter
    except ImportError:
        raise DependencyError("--plot needs matplotlib: pip install 'simpletrader[plot]'") from None
    from simpletrader.backtest.report import envelope

    eq = result.equity
    values = eq["equity"].to_numpy()
    drawdown = eq["drawdown"].to_numpy()
    keep = np.unique(np.concatenate((envelope(values), envelope(drawdown))))
    x = pd.DatetimeIndex(eq.index).tz_convert(None)[keep]
    closes = [np.asarray(b.close, dtype=np.float64) for b in result.bars.values()]
    hold = result.starting_cash * np.mean([c / c[0] for c in closes], axis=0)

    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(11, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    try:
        top.plot(x, values[keep], color="#1d4ed8", linewidth=1.2, label="equity")
        top.plot(x, hold[keep], color="#6b7280", linewidth=0.9, linestyle=":", label="buy & hold")
        top.set_ylabel("equity")
        top.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ret = result.metrics["total_return"]
        shown = "n/a" if ret is None else f"{ret:+.2%}"
        top.set_title(
            f"{result.name}  {result.start:%Y-%m-%d} .. {result.end:%Y-%m-%d}  return {shown}",
            loc="left",
            fontsize=11,
        )
        top.legend(loc="upper left", frameon=False)
        top.grid(alpha=0.3)
        bottom.fill_between(x, drawdown[keep] * 100, 0, color="#b91c1c", alpha=0.3, linewidth=0)
        bottom.plot(x, drawdown[keep] * 100, color="#b91c1c", linewidth=0.8)
        bottom.set_ylabel("drawdown %")
        bottom.set_xlabel("time (UTC)")
        bottom.grid(alpha=0.3)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, format="png")
    finally:
        plt.close(fig)
    return path
