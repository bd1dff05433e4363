"""What the journal's serialisation tests share: a time, the flow DTO classes and their
hypothesis strategies (owned by the DTO contract tests, in ``tests/dtos``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from simpletrader.dtos import ExecutionCommandBatch, Origin, Risk, Signal, StrategyDirective

sys.path.insert(0, str(Path(__file__).parents[1] / "dtos"))
from dto_strategies import DTO_STRATEGIES as _STRATEGIES

T = 1_700_000_000_000_000_000
FLOW_CLASSES = [Origin, Signal, Risk, StrategyDirective, ExecutionCommandBatch]
DTO_STRATEGIES: dict[type, st.SearchStrategy[Any]] = _STRATEGIES
