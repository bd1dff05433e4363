"""``simpletrader explain``: why an order, fill, plan, batch, directive or signal exists."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from simpletrader.cli.app import app, fail, out
from simpletrader.core.errors import SimpleTraderError, UnknownIdError

if TYPE_CHECKING:
    from simpletrader.journal.explain import Explanation, Node
    from simpletrader.ledger.store import Store

STYLES = {
    "bar": "bold cyan",
    "facts": "cyan",
    "origin": "dim",
    "signal": "magenta",
    "risk": "red",
    "directive": "bold magenta",
    "not_planned": "yellow",
    "batch": "bold blue",
    "command": "blue",
    "plan": "dim",
    "trade_plan": "bold green",
    "group": "green",
    "order": "bold",
    "fill": "green",
    "note": "yellow",
}


def _label(node: Node) -> Text:
    text = Text(node.label, style=STYLES.get(node.kind, ""))
    if node.target:
        text.stylize("reverse")
        text.append("  ◀", style="bold yellow")
    return text


def _add(tree: Tree, node: Node) -> None:
    branch = tree.add(_label(node))
    for child in node.children:
        _add(branch, child)


def render(explanation: Explanation) -> Tree:
    """The explanation as a rich tree: one branch per chain, the asked id highlighted."""
    root = Tree(
        Text.assemble(
            ("why ", "dim"),
            (explanation.target, "bold"),
            (f" ({explanation.kind}) exists, in run {explanation.run_id}", "dim"),
        )
    )
    for chain in explanation.roots:
        _add(root, chain)
    return root


def resolve_run(store: Store, entry_id: str, run_id: str | None) -> str:
    """The run to explain ``entry_id`` in: ``run_id`` if given, else the one run holding it."""
    from simpletrader.journal.explain import holds, id_kind, known_ids, nearest_ids

    kind = id_kind(entry_id)
    if run_id is not None:
        return store.run(run_id).run_id
    runs = store.runs()
    if not runs:
        raise UnknownIdError(f"{store.path} holds no runs yet")
    holding = [r for r in runs if holds(store.source(r.run_id), entry_id)]
    if len(holding) == 1:
        return holding[0].run_id
    if len(holding) > 1:
        listed = "; ".join(
            f"{r.run_id} ({r.blueprint_name}, seed {r.seed}, started {r.started_at:%Y-%m-%d %H:%M})"
            for r in holding
        )
        raise UnknownIdError(
            f"{entry_id} is in {len(holding)} runs of {store.path} (identical runs share ids); "
            f"pass --run with one of: {listed}"
        )
    prefix = entry_id.split("_", 1)[0]
    candidates: set[str] = set()
    for info in runs:
        candidates.update(known_ids(store.source(info.run_id), prefix))
    near = nearest_ids(entry_id, candidates)
    where = f"{store.path} ({len(runs)} run{'s' if len(runs) != 1 else ''})"
    hint = f"; nearest {kind} ids: {', '.join(near)}" if near else f"; it holds no {kind} ids"
    raise UnknownIdError(f"no {kind} {entry_id} in {where}{hint}", tuple(near))


@app.command()
def explain(
    store: Annotated[Path, typer.Argument(help="The SQLite store a run was recorded in")],
    entry_id: Annotated[
        str,
        typer.Argument(
            metavar="ID", help="An order, fill, trade plan, group, batch, directive or signal id"
        ),
    ],
    run: Annotated[
        str | None, typer.Option("--run", help="The run to look in (when several hold the id)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the tree as JSON")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks")] = False,
) -> None:
    """Explain ID: the chain bar → facts → signals → directive → batch → orders → fills."""
    from simpletrader.journal.explain import explain as explain_id
    from simpletrader.ledger.store import Store

    try:
        with Store(store) as opened:
            run_id = resolve_run(opened, entry_id, run)
            explanation = explain_id(opened.source(run_id), entry_id)
    except SimpleTraderError as exc:
        fail(str(exc), debug)
    except OSError as exc:
        fail(f"{exc.__class__.__name__}: {exc}", debug)
    if as_json:
        sys.stdout.write(json.dumps(explanation.to_dict(), indent=2) + "\n")
        return
    # In a pipe or a file rich would wrap to 80 columns; an order's line alone takes more.
    console = out if out.is_terminal else Console(width=240)
    console.print(render(explanation))
