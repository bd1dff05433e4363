"""The ``simpletrader`` command line: one module per command, registered on one Typer app."""

from simpletrader.cli import backtest as _backtest  # noqa: F401 - registers the command
from simpletrader.cli import explain as _explain  # noqa: F401 - registers the command
from simpletrader.cli import plugins as _plugins  # noqa: F401 - registers the command
from simpletrader.cli import runs as _runs  # noqa: F401 - registers the command
from simpletrader.cli import sweep as _sweep  # noqa: F401 - registers the command
from simpletrader.cli import validate as _validate  # noqa: F401 - registers the command
from simpletrader.cli.app import app
from simpletrader.cli.memory import fix_mmap_threshold


def main() -> None:
    fix_mmap_threshold()  # a lower, steadier peak (see cli/memory.py)
    app()


__all__ = ["app", "main"]
