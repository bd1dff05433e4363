"""Built-in context workers: objective facts computed over the whole history, checked causal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from simpletrader.plugins.base import ContextWorker
from simpletrader.plugins.registry import register

if TYPE_CHECKING:
    from simpletrader.data.bars import Bars

PriceField = Literal["open", "high", "low", "close"]


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _series(bars: Mapping[str, Bars], symbol: str | None, field: PriceField) -> np.ndarray:
    chosen = bars[symbol] if symbol is not None else next(iter(bars.values()))
    values: np.ndarray = getattr(chosen, field)
    return values


class SmaParams(_Params):
    period: Annotated[int, Field(ge=1, le=100_000)]
    source: PriceField = "close"
    symbol: str | None = None


@register("sma")
class SimpleMovingAverage(ContextWorker):
    """Simple moving average of ``source`` over ``period`` bars (NaN until the window fills)."""

    Params = SmaParams

    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]:
        p: SmaParams = self.params
        values = _series(bars, p.symbol, p.source)
        mean = pd.Series(values).rolling(p.period, min_periods=p.period).mean()
        return {"value": mean.to_numpy(dtype=np.float64)}
