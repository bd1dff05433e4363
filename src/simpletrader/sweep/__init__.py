"""Parameter sweeps, many-symbol runs and walk-forward analysis, fanned out on Ray or a local
process pool (DESIGN.md §8): one ordinary deterministic backtest per task, market data shipped
once, one results table."""

from simpletrader.sweep.api import SweepInterrupted, run_sweep
from simpletrader.sweep.grid import ParamAxis, parse_param
from simpletrader.sweep.metrics import METRICS

__all__ = ["METRICS", "ParamAxis", "SweepInterrupted", "parse_param", "run_sweep"]
