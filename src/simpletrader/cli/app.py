"""The Typer application and the console conventions every command shares.

The CLI owns the console (rich). A user-facing error prints one line and exits with status 2;
``--debug`` shows the traceback as well.
"""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="simpletrader: event-driven algorithmic trading, every order explained.",
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()


@app.callback()
def _root() -> None:
    """simpletrader: event-driven algorithmic trading, every order explained."""


def fail(message: str, debug: bool = False) -> NoReturn:
    """Print one error line (and the traceback with ``debug``) and exit with status 2."""
    if debug:
        err.print_exception()
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)
