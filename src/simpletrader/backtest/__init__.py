"""Backtesting: the engine, the Python API, metrics, the report.

``simpletrader.backtest`` is both this package and the API function: calling the package,
``simpletrader.backtest("blueprint.yaml", seed=7)``, runs
:func:`simpletrader.backtest.api.backtest`. Importing the package stays light; the engine is
imported on the first call.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simpletrader.backtest.result import Result


class _CallablePackage(ModuleType):
    """The package's module type: calling it runs a backtest (see the package docstring)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Result:
        from simpletrader.backtest.api import backtest

        return backtest(*args, **kwargs)


# A submodule import sets ``simpletrader.backtest`` to this package, so the package itself must
# be the callable: a function of the same name would be replaced on the first import.
sys.modules[__name__].__class__ = _CallablePackage
