"""Running the scenario examples as a user does and reading back what they promise.

Each example runs once, in a subprocess, as ``python -m simpletrader backtest
examples/NAME.yaml --json --store NAME.sqlite``; a :class:`Scenario` holds its ``--json``
summary and its journal read back from the store, with the lookups the scenario tests need.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from simpletrader.core.enums import GroupRole, Side
from simpletrader.dtos import ExecutionCommand, ExecutionCommandBatch, StrategyDirective
from simpletrader.journal.codec import BarInfo
from simpletrader.journal.events import (
    BatchEnded,
    CommandEnded,
    FlowRecorded,
    JournalEvent,
    OrderFilled,
    OrderSubmitted,
)
from simpletrader.ledger.ledger import Ledger
from simpletrader.ledger.records import GroupRecord, OrderRecord
from simpletrader.ledger.store import Store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


_ROW = re.compile(r"<tr>(.*?)</tr>")
_CELL = re.compile(r"<td[^>]*>(.*?)</td>")


def report_batches(document: str) -> dict[str, dict[str, str]]:
    """The rows of an HTML report's batches table by batch id, each as {header: cell text}."""
    start = document.index('<table class="batches">')
    table = document[start : document.index("</table>", start)]
    headers = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", table)]
    rows: dict[str, dict[str, str]] = {}
    for row in _ROW.findall(table):
        cells = [html.unescape(c) for c in _CELL.findall(row)]
        if cells:
            named = dict(zip(headers, cells, strict=True))
            rows[named["batch"]] = named
    return rows


def launch(name: str, workdir: Path, *extra: str) -> subprocess.Popen[str]:
    """Start ``simpletrader backtest examples/NAME.yaml --json --store`` from the repo root."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "COLUMNS": "120"}
    store = workdir / f"{name}.sqlite"
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simpletrader",
            "backtest",
            f"examples/{name}.yaml",
            "--json",
            "--store",
            str(store),
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def collect(name: str, proc: subprocess.Popen[str], workdir: Path) -> Scenario:
    """Wait for a launched run and read it back (AssertionError with its stderr on failure)."""
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, f"{name} exited {proc.returncode}:\n{stderr}"
    summary = json.loads(stdout)
    run_id = summary["run_id"]
    with Store(workdir / f"{name}.sqlite") as store:
        rows = list(store.entries(run_id))
        events = [row.event() for row in rows]
        ledger = store.rebuild_ledger(run_id)
        decided = {
            row.bar
            for row, event in zip(rows, events, strict=True)
            if isinstance(event, FlowRecorded) and isinstance(event.dto, StrategyDirective)
        }
        bars = {bar: info for bar in sorted(decided) if (info := store.bar(run_id, bar))}
    directive_bars = {
        event.dto.directive_id: row.bar
        for row, event in zip(rows, events, strict=True)
        if isinstance(event, FlowRecorded) and isinstance(event.dto, StrategyDirective)
    }
    return Scenario(name, summary, events, ledger, bars, directive_bars)


@dataclass
class Scenario:
    """One finished example: its ``--json`` summary, its journal and the rebuilt ledger."""

    name: str
    summary: dict[str, Any]
    events: list[JournalEvent]
    ledger: Ledger
    bars: dict[int, BarInfo] = field(repr=False)
    """The stored bars on which a directive was made (market and facts on that bar)."""
    directive_bars: dict[str, int] = field(repr=False)
    report: str = field(default="", repr=False)

    # -- flow DTOs ---------------------------------------------------------------------------
    def flow(self, kind: type[Any]) -> Iterator[Any]:
        for event in self.events:
            if isinstance(event, FlowRecorded) and isinstance(event.dto, kind):
                yield event.dto

    @cached_property
    def batches(self) -> dict[str, ExecutionCommandBatch]:
        """Every batch, in the order they were made."""
        return {b.batch_id: b for b in self.flow(ExecutionCommandBatch)}

    @cached_property
    def directives(self) -> dict[str, StrategyDirective]:
        return {d.directive_id: d for d in self.flow(StrategyDirective)}

    def directive_of(self, batch: ExecutionCommandBatch) -> StrategyDirective:
        return self.directives[batch.directive_id]

    def decision_bar(self, batch: ExecutionCommandBatch) -> BarInfo:
        """The stored bar the batch's directive was made on: closes and facts as decided."""
        return self.bars[self.directive_bars[batch.directive_id]]

    def decision_close(self, batch: ExecutionCommandBatch, symbol: str) -> float:
        close = self.decision_bar(batch).market[symbol][3]
        assert close is not None
        return close

    # -- outcomes ----------------------------------------------------------------------------
    @cached_property
    def batch_ended(self) -> dict[str, BatchEnded]:
        return {e.batch_id: e for e in self.events if isinstance(e, BatchEnded)}

    @cached_property
    def command_ended(self) -> dict[str, CommandEnded]:
        return {e.command_id: e for e in self.events if isinstance(e, CommandEnded)}

    def status(self, batch: ExecutionCommandBatch) -> str:
        """COMPLETED, PARTIAL, FAILED, or OPEN when it had not ended by the last bar."""
        ended = self.batch_ended.get(batch.batch_id)
        return ended.status.value if ended is not None else "OPEN"

    def command_status(self, command: ExecutionCommand) -> str:
        ended = self.command_ended.get(command.command_id)
        return ended.status.value if ended is not None else "WORKING"

    def of_kind(self, kind: type[JournalEvent]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    # -- groups, orders, fills ---------------------------------------------------------------
    @cached_property
    def _groups_by_command(self) -> Mapping[str, list[GroupRecord]]:
        out: dict[str, list[GroupRecord]] = defaultdict(list)
        for group in self.ledger.groups.values():
            if group.command_id is not None:
                out[group.command_id].append(group)
        return out

    def groups(self, command: ExecutionCommand, role: GroupRole | None = None) -> list[GroupRecord]:
        """The command's groups (its ENTRY group, and UNWIND groups reversing its fills)."""
        found = self._groups_by_command.get(command.command_id, [])
        return [g for g in found if role is None or g.role is role]

    def orders(self, command: ExecutionCommand, role: GroupRole | None = None) -> list[OrderRecord]:
        """The orders of the command's groups, in submission order."""
        return [self.ledger.orders[o] for g in self.groups(command, role) for o in g.order_ids]

    @cached_property
    def submitted_at(self) -> dict[str, int]:
        """Each order's submission time (ns), from the journal."""
        return {e.order_id: e.at for e in self.events if isinstance(e, OrderSubmitted)}

    @cached_property
    def fills_by_order(self) -> Mapping[str, list[OrderFilled]]:
        out: dict[str, list[OrderFilled]] = defaultdict(list)
        for event in self.events:
            if isinstance(event, OrderFilled):
                out[event.order_id].append(event)
        return out

    def signed_fills(self, orders: list[OrderRecord]) -> dict[str, Decimal]:
        """Units bought (+) and sold (-) per symbol by ``orders``' fills."""
        net: dict[str, Decimal] = defaultdict(Decimal)
        for order in orders:
            for fill in self.fills_by_order.get(order.order_id, ()):
                net[order.symbol] += fill.quantity if order.side is Side.BUY else -fill.quantity
        return dict(net)

    def batch_contribution(self, batch: ExecutionCommandBatch) -> dict[str, Decimal]:
        """What the batch left in the market per symbol: every fill of its groups, ENTRY and
        UNWIND (late fills included, as they belong to their group)."""
        orders = [o for c in batch.commands for o in self.orders(c)]
        return self.signed_fills(orders)

    @cached_property
    def nets_when_ended(self) -> dict[str, dict[str, Decimal]]:
        """Per batch, the net position of every plan its commands worked on, as the batch
        ended (replayed from the journal's fills up to its BatchEnded entry)."""
        ledger = self.ledger
        net: dict[str, Decimal] = defaultdict(Decimal)
        out: dict[str, dict[str, Decimal]] = {}
        for event in self.events:
            if isinstance(event, OrderFilled):
                order = ledger.orders[event.order_id]
                plan = ledger.groups[order.group_id].trade_plan_id
                net[plan] += event.quantity if order.side is Side.BUY else -event.quantity
            elif isinstance(event, BatchEnded):
                batch = self.batches[event.batch_id]
                plans = {g.trade_plan_id for c in batch.commands for g in self.groups(c)}
                out[event.batch_id] = {plan: net[plan] for plan in plans}
        return out
