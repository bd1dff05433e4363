"""``simpletrader plugins``: every registered plugin per role, with its params."""

from __future__ import annotations

import json
import re
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from simpletrader.cli.app import app, fail, out
from simpletrader.core.errors import SimpleTraderError

_ANNOTATED = re.compile(r"Annotated\[([^,\[\]]+(?:\[[^\]]*\])?), FieldInfo\(.*?\)\]")


def type_text(name: str) -> str:
    """A parameter's type as a reader wants it: constraints live in their own column, so
    ``Annotated[float, FieldInfo(...)]`` is shown as ``float``."""
    previous = None
    while previous != name:
        previous, name = name, _ANNOTATED.sub(r"\1", name)
    return name.replace("decimal.Decimal", "Decimal")


def default_text(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@app.command()
def plugins(
    role: Annotated[
        str | None,
        typer.Argument(help="Only this role, e.g. signal_detector (default: every role)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks")] = False,
) -> None:
    """List every registered plugin per role, with its params.

    Built-ins and plugins from the simpletrader.plugins entry points; each param with its type,
    default (or required) and constraints.
    """
    from simpletrader.plugins.base import ROLES
    from simpletrader.plugins.registry import describe

    try:
        if role is not None and role not in ROLES:
            raise SimpleTraderError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        infos = describe(role)
    except SimpleTraderError as exc:
        fail(str(exc), debug)
    if as_json:
        sys.stdout.write(json.dumps([i.model_dump(mode="json") for i in infos], indent=2) + "\n")
        return
    for r in ROLES if role is None else (role,):
        table = Table(title=r, title_justify="left", show_lines=True, expand=False)
        table.add_column("plugin", style="bold cyan", no_wrap=True)
        table.add_column("what it does", ratio=2)
        table.add_column("params", ratio=3)
        for info in (i for i in infos if i.role == r):
            params = []
            for p in info.params:
                head = f"[bold]{p.name}[/]: {type_text(p.type)}"
                head += " (required)" if p.required else f" = {default_text(p.default)}"
                if p.constraints:
                    head += f" [dim]{p.constraints}[/]"
                params.append(head)
            table.add_row(info.name, info.summary, "\n".join(params) or "[dim]none[/]")
        out.print(table)
