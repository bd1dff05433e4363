"""simpletrader: event-driven algorithmic trading, every order explained.

``simpletrader.backtest(blueprint, **overrides)`` runs a backtest and returns a ``Result``
(see docs/api.md). Importing ``simpletrader`` itself loads nothing heavy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # For type checkers: the callable package ``simpletrader.backtest`` has this signature.
    from simpletrader.backtest.api import backtest as backtest
    from simpletrader.backtest.result import Result as Result

__all__ = ["Result", "backtest"]


def __getattr__(name: str) -> Any:
    # Lazy: ``import simpletrader`` must not import numpy, pandas or the engine.
    if name == "backtest":
        return import_module("simpletrader.backtest")
    if name == "Result":
        return import_module("simpletrader.backtest.result").Result
    raise AttributeError(f"module 'simpletrader' has no attribute {name!r}")
