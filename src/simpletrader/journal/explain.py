"""``explain``: why does this id exist?

Given any id a journal holds (order, fill, trade plan, group, batch, command, plan, directive,
signal, risk or origin), :func:`explain` walks the journal to the chain that produced it::

    bar (prices, facts) -> origin, signals, risks -> directive -> batch -> command (plans)
        -> execution group -> orders -> fills

and returns it as a tree of :class:`Node`. Above the asked-for record the tree holds only its
ancestors (and their context: the bar's facts, the directive's signals); below it, everything
it led to. A trade plan is explained by one chain per group that traded it.

The journal is read through an :class:`EntrySource`: the SQLite store
(``Store.source(run_id)``) or, for a run still in memory, :class:`JournalSource`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from simpletrader.core.clock import ns_to_datetime
from simpletrader.core.errors import UnknownIdError
from simpletrader.core.ids import ID_FORMATS, ORIGIN_PREFIXES
from simpletrader.dtos import (
    ExecutionCommand,
    ExecutionCommandBatch,
    Origin,
    Risk,
    Signal,
    StrategyDirective,
)
from simpletrader.journal.codec import BarInfo, EntryRow
from simpletrader.journal.events import (
    CommandEnded,
    FlowRecorded,
    GroupCreated,
    JournalEvent,
    OrderFilled,
    OrderSubmitted,
)

if TYPE_CHECKING:
    from simpletrader.data.bars import Bars
    from simpletrader.journal.journal import Journal

PLAN_PREFIXES = ("ENT", "SIZ", "EXT", "EXP")
EXPLAINABLE = (
    *ORIGIN_PREFIXES,
    "SIG",
    "RSK",
    "STR",
    *PLAN_PREFIXES,
    "EXC",
    "BAT",
    "TPL",
    "EXG",
    "ORD",
    "FIL",
)
"""Id prefixes ``explain`` answers for."""


class EntrySource(Protocol):
    """Where :func:`explain` reads one run's journal from."""

    @property
    def run_id(self) -> str: ...

    def by_id(self, entry_id: str) -> list[EntryRow]:
        """Entries filed under ``entry_id`` (their primary id), in sequence order."""
        ...

    def by_ref(self, ref: str) -> list[EntryRow]:
        """Entries that belong to the record ``ref``, in sequence order."""
        ...

    def in_bar(self, bar: int) -> list[EntryRow]:
        """The entries bar ``bar`` committed, in sequence order."""
        ...

    def mentioning(self, text: str, kind: str) -> list[EntryRow]:
        """Entries of ``kind`` whose payload contains ``text``, in sequence order."""
        ...

    def ids_with_prefix(self, prefix: str) -> list[str]:
        """Every distinct primary id starting with ``prefix + '_'``."""
        ...

    def bar_info(self, bar: int) -> BarInfo | None:
        """Bar ``bar``'s prices and facts, if known."""
        ...


@dataclass(slots=True)
class Node:
    """One record of an explanation. ``data`` is JSON-ready; ``target`` marks the asked id."""

    kind: str
    id: str | None
    label: str
    data: dict[str, Any] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    target: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.kind,
            "id": self.id,
            "label": self.label,
            "target": self.target,
            "data": self.data,
            "children": [c.to_dict() for c in self.children],
        }

    def walk(self) -> Iterable[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(slots=True)
class Explanation:
    """Why ``target`` exists in run ``run_id``: one or more chains (roots) of :class:`Node`."""

    run_id: str
    target: str
    kind: str
    roots: list[Node]

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "id": self.target,
            "kind": self.kind,
            "chains": [r.to_dict() for r in self.roots],
        }

    def nodes(self) -> Iterable[Node]:
        for root in self.roots:
            yield from root.walk()


def id_kind(entry_id: str) -> str:
    """What an id names ("order", "fill", ...), from its prefix; ``UnknownIdError`` if none."""
    prefix = entry_id.split("_", 1)[0]
    fmt = ID_FORMATS.get(prefix)
    if fmt is None or prefix not in EXPLAINABLE:
        if prefix == "RUN":
            raise UnknownIdError(f"{entry_id} is a run id; `simpletrader runs STORE` lists runs")
        kinds = ", ".join(f"{p} ({ID_FORMATS[p].meaning})" for p in EXPLAINABLE)
        raise UnknownIdError(
            f"{entry_id!r} is not an id explain knows; ids look like "
            f"ORD_20140505_000000_1a2b3c4d, with a prefix among: {kinds}"
        )
    return fmt.meaning


def holds(source: EntrySource, entry_id: str) -> bool:
    """Whether the run holds ``entry_id`` (as an entry's id, or inside a batch for plans)."""
    if entry_id.startswith(PLAN_PREFIXES):
        return bool(source.mentioning(f'"{entry_id}"', FlowRecorded.kind))
    return bool(source.by_id(entry_id))


def known_ids(source: EntrySource, prefix: str) -> list[str]:
    """Every id of ``prefix`` the run holds (plans are read out of the batches)."""
    if prefix in PLAN_PREFIXES:
        pattern = re.compile(rf'"({prefix}_[0-9]{{8}}_[0-9]{{6}}_[0-9a-f]{{8}})"')
        found: set[str] = set()
        for row in source.mentioning(f'"{prefix}_', FlowRecorded.kind):
            payload = row.payload if isinstance(row.payload, str) else row.payload.decode()
            found.update(pattern.findall(payload))
        return sorted(found)
    return sorted(source.ids_with_prefix(prefix))


def nearest_ids(entry_id: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """The ``n`` candidates closest to ``entry_id`` (difflib), best first."""
    return difflib.get_close_matches(entry_id, list(candidates), n=n, cutoff=0.5)


def explain(source: EntrySource, entry_id: str) -> Explanation:
    """Explain ``entry_id`` from ``source``; ``UnknownIdError`` (with suggestions) if absent."""
    kind = id_kind(entry_id)
    roots = _Explainer(source).roots(entry_id)
    if not roots:
        prefix = entry_id.split("_", 1)[0]
        near = nearest_ids(entry_id, known_ids(source, prefix))
        hint = f"; nearest {kind} ids: {', '.join(near)}" if near else f"; it holds no {kind} ids"
        raise UnknownIdError(f"no {kind} {entry_id} in run {source.run_id}{hint}", tuple(near))
    for root in roots:
        for node in root.walk():
            node.target = node.id == entry_id
    return Explanation(source.run_id, entry_id, kind, roots)


def _time(ns: int) -> str:
    return ns_to_datetime(ns).strftime("%Y-%m-%d %H:%M:%S")


def _num(value: float | Decimal | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return f"{value:.10g}"


def _plain(value: Any) -> Any:
    """JSON-ready: Decimals as strings, tuples as lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class _Explainer:
    """Builds the chains; every lookup goes through the source."""

    def __init__(self, source: EntrySource) -> None:
        self.src = source

    def _entries(self, entry_id: str, kind: str) -> list[EntryRow]:
        return [r for r in self.src.by_id(entry_id) if r.kind == kind]

    def _flow(self, entry_id: str) -> tuple[EntryRow, Any] | None:
        for row in self._entries(entry_id, FlowRecorded.kind):
            event = row.event()
            assert isinstance(event, FlowRecorded)
            return row, event.dto
        return None

    def _history(self, entry_id: str, skip: str) -> list[dict[str, Any]]:
        """Every later entry about a record (status changes, amendments), oldest first."""
        out = []
        for row in self.src.by_id(entry_id):
            if row.kind == skip:
                continue
            record = row.record()
            item = {k: v for k, v in record.items() if k not in ("seq", "id", "at")}
            item = {"time": _time(record["at"]), **item}
            out.append(item)
        return out

    def roots(self, entry_id: str) -> list[Node]:
        prefix = entry_id.split("_", 1)[0]
        if prefix == "FIL":
            return self._for_fill(entry_id)
        if prefix == "ORD":
            return self._for_order(entry_id)
        if prefix == "EXG":
            return self._for_group(entry_id)
        if prefix == "TPL":
            return self._for_trade_plan(entry_id)
        if prefix == "BAT":
            found = self._flow(entry_id)
            return [self._batch_chain(found[0], found[1])] if found else []
        if prefix == "EXC":
            return self._for_command(entry_id)
        if prefix in PLAN_PREFIXES:
            return self._for_plan(entry_id)
        if prefix == "STR":
            found = self._flow(entry_id)
            return [self._directive_chain(found[0], found[1], None)] if found else []
        if prefix in ("SIG", "RSK"):
            return self._for_detection(entry_id)
        return self._for_origin(entry_id)

    def _for_fill(self, fill_id: str) -> list[Node]:
        rows = self._entries(fill_id, OrderFilled.kind)
        if not rows:
            return []
        event = rows[0].event()
        assert isinstance(event, OrderFilled)
        return self._for_order(event.order_id)

    def _for_order(self, order_id: str) -> list[Node]:
        rows = self._entries(order_id, OrderSubmitted.kind)
        if not rows:
            return []
        order = rows[0].event()
        assert isinstance(order, OrderSubmitted)
        groups = self._entries(order.group_id, GroupCreated.kind)
        if not groups:
            return []
        return [self._group_chain(groups[0], {order_id})]

    def _for_group(self, group_id: str) -> list[Node]:
        groups = self._entries(group_id, GroupCreated.kind)
        return [self._group_chain(groups[0], None)] if groups else []

    def _for_trade_plan(self, trade_plan_id: str) -> list[Node]:
        opened = self._entries(trade_plan_id, "trade_plan_opened")
        if not opened:
            return []
        record = opened[0].record()
        plan = Node(
            "trade_plan",
            trade_plan_id,
            f"trade plan {trade_plan_id} {record['direction']} {record['symbol']} "
            f"(strategy {record['strategy_id']}, opened {_time(record['at'])})",
            {**_plain(record), "history": self._history(trade_plan_id, "trade_plan_opened")},
        )
        for row in self.src.mentioning(f'"{trade_plan_id}"', GroupCreated.kind):
            group = row.event()
            assert isinstance(group, GroupCreated)
            if group.trade_plan_id != trade_plan_id:
                continue
            if group.command_id is None or group.batch_id is None:
                plan.children.append(self._group_node(row, None))
            else:
                plan.children.append(self._group_chain(row, None))
        return [plan]

    def _for_command(self, command_id: str) -> list[Node]:
        batch_id = None
        for row in self._entries(command_id, CommandEnded.kind):
            batch_id = row.ref
        if batch_id is None:
            for row in self.src.by_ref(command_id):
                event = row.event()
                if isinstance(event, GroupCreated):
                    batch_id = event.batch_id
        if batch_id is None:
            for row in self.src.mentioning(f'"{command_id}"', FlowRecorded.kind):
                if row.id.startswith("BAT_"):
                    batch_id = row.id
        found = self._flow(batch_id) if batch_id else None
        if found is None:
            return []
        return [self._batch_chain(found[0], found[1], {command_id})]

    def _for_plan(self, plan_id: str) -> list[Node]:
        for row in self.src.mentioning(f'"{plan_id}"', FlowRecorded.kind):
            event = row.event()
            assert isinstance(event, FlowRecorded)
            batch = event.dto
            if not isinstance(batch, ExecutionCommandBatch):
                continue
            for command in batch.commands:
                if plan_id in command.causality.plan_ids:
                    return [self._batch_chain(row, batch, {command.command_id})]
        return []

    def _for_detection(self, entry_id: str) -> list[Node]:
        found = self._flow(entry_id)
        if found is None:
            return []
        row = found[0]
        chains = []
        for other in self.src.in_bar(row.bar):
            if other.kind != FlowRecorded.kind or not other.id.startswith("STR_"):
                continue
            event = other.event()
            assert isinstance(event, FlowRecorded)
            directive = event.dto
            assert isinstance(directive, StrategyDirective)
            if entry_id in (*directive.causality.signal_ids, *directive.causality.risk_ids):
                chains.append(self._directive_chain(other, directive, None))
        if chains:
            return chains
        # Detected but not acted on: the bar, the flow's origin and what it detected.
        return [self._undecided(row)]

    def _for_origin(self, origin_id: str) -> list[Node]:
        found = self._flow(origin_id)
        if found is None:
            return []
        chains = []
        for row in self.src.by_ref(origin_id):
            event = row.event()
            if isinstance(event, FlowRecorded) and isinstance(event.dto, StrategyDirective):
                chains.append(self._directive_chain(row, event.dto, None))
        return chains or [self._undecided(found[0])]

    def _undecided(self, row: EntryRow) -> Node:
        """A flow with no directive: its bar, origin and detections, and a note."""
        bar = self._bar_node(row.bar)
        entries = self.src.in_bar(row.bar)
        start = 0
        for k, other in enumerate(entries):
            if other.seq > row.seq:
                break
            if other.kind == FlowRecorded.kind and other.id.startswith(ORIGIN_PREFIXES):
                start = k
        for k, other in enumerate(entries[start:]):
            if other.kind != FlowRecorded.kind:
                continue
            if k > 0 and other.id.startswith((*ORIGIN_PREFIXES, "STR_")):
                break
            event = other.event()
            assert isinstance(event, FlowRecorded)
            bar.children.append(self._dto_node(event.dto, event.at))
        bar.children.append(Node("note", None, "no directive: the planner decided nothing here"))
        return bar

    def _group_chain(self, group_row: EntryRow, orders: set[str] | None) -> Node:
        group = group_row.event()
        assert isinstance(group, GroupCreated)
        node = self._group_node(group_row, orders)
        if group.command_id is None or group.batch_id is None:
            plan = self._for_trade_plan_header(group.trade_plan_id)
            plan.children.append(node)
            return plan
        found = self._flow(group.batch_id)
        if found is None:
            return node
        return self._batch_chain(found[0], found[1], {group.command_id}, {group.command_id: node})

    def _for_trade_plan_header(self, trade_plan_id: str) -> Node:
        opened = self._entries(trade_plan_id, "trade_plan_opened")
        label = f"trade plan {trade_plan_id}"
        data: dict[str, Any] = {}
        if opened:
            record = opened[0].record()
            label += f" {record['direction']} {record['symbol']}"
            data = _plain(record)
        return Node("trade_plan", trade_plan_id, label, data)

    def _batch_chain(
        self,
        row: EntryRow,
        batch: ExecutionCommandBatch,
        commands: set[str] | None = None,
        groups: Mapping[str, Node] | None = None,
    ) -> Node:
        node = self._batch_node(row, batch, commands, groups)
        found = self._flow(batch.directive_id)
        if found is None:
            return node
        return self._directive_chain(found[0], found[1], [node])

    def _directive_chain(
        self, row: EntryRow, directive: StrategyDirective, below: list[Node] | None
    ) -> Node:
        event = row.event()
        node = self._dto_node(directive, event.at)
        if below is None:
            below = []
            for other in self.src.by_ref(directive.directive_id):
                flow = other.event()
                if isinstance(flow, FlowRecorded) and isinstance(flow.dto, ExecutionCommandBatch):
                    below.append(self._batch_node(other, flow.dto, None, None))
            for other in self._entries(directive.directive_id, "directive_not_planned"):
                reason = other.record()["reason"]
                below.append(
                    Node("not_planned", None, f"not planned: {reason}", {"reason": reason})
                )
        node.children.extend(below)
        bar = self._bar_node(row.bar)
        causality = directive.causality
        for entry_id in (causality.origin_id, *causality.signal_ids, *causality.risk_ids):
            found = self._flow(entry_id)
            if found is not None:
                bar.children.append(self._dto_node(found[1], found[0].event().at))
        bar.children.append(node)
        return bar

    def _bar_node(self, bar: int) -> Node:
        info = self.src.bar_info(bar)
        if info is None:
            return Node("bar", None, f"bar {bar}", {"index": bar})
        prices = "; ".join(
            f"{symbol} O {_num(v[0])} H {_num(v[1])} L {_num(v[2])} C {_num(v[3])}"
            for symbol, v in info.market.items()
        )
        node = Node(
            "bar",
            None,
            f"bar {bar} · {_time(info.ts)} · {prices}",
            {
                "index": bar,
                "time": ns_to_datetime(info.ts).isoformat(),
                "market": {
                    s: dict(zip(("open", "high", "low", "close", "volume"), v, strict=False))
                    for s, v in info.market.items()
                },
                "facts": info.facts,
            },
        )
        if info.facts:
            shown = ", ".join(f"{k} = {_num(v)}" for k, v in info.facts.items())
            node.children.append(Node("facts", None, f"facts: {shown}", dict(info.facts)))
        return node

    def _dto_node(self, dto: Any, at: int) -> Node:
        data = _plain(dto.model_dump(mode="json"))
        if isinstance(dto, Origin):
            return Node("origin", dto.id, f"origin {dto.id} ({dto.type})", data)
        if isinstance(dto, Signal):
            confidence = "" if dto.confidence is None else f" confidence {_num(dto.confidence)}"
            label = f"signal {dto.signal_id} {dto.direction} {dto.signal_type} {dto.symbol}"
            return Node("signal", dto.signal_id, label + confidence, data)
        if isinstance(dto, Risk):
            where = dto.affected_symbol or "system-wide"
            label = f"risk {dto.risk_id} {dto.risk_type} severity {_num(dto.severity)} ({where})"
            return Node("risk", dto.risk_id, label, data)
        if isinstance(dto, StrategyDirective):
            legs = "; ".join(
                " ".join(
                    str(p)
                    for p in (leg.scope, leg.direction, leg.symbol, leg.trade_plan_id)
                    if p is not None
                )
                for leg in dto.legs
            )
            label = (
                f"directive {dto.directive_id} confidence {_num(dto.confidence)} "
                f"({_time(at)}) · {legs}"
            )
            return Node("directive", dto.directive_id, label, data)
        return Node("dto", None, type(dto).__name__, data)

    def _batch_node(
        self,
        row: EntryRow,
        batch: ExecutionCommandBatch,
        commands: set[str] | None,
        groups: Mapping[str, Node] | None,
    ) -> Node:
        outcome = self._entries(batch.batch_id, "batch_ended")
        status = "working"
        data: dict[str, Any] = {"batch": _plain(batch.model_dump(mode="json"))}
        if outcome:
            record = outcome[-1].record()
            status = record["status"]
            if record.get("reason"):
                status += f" ({record['reason']})"
            data["outcome"] = _plain(record)
        timeout = "" if batch.timeout_seconds is None else f", timeout {batch.timeout_seconds}s"
        data["history"] = self._history(batch.batch_id, "flow")
        node = Node(
            "batch",
            batch.batch_id,
            f"batch {batch.batch_id} {batch.mode}{timeout} → {status}",
            data,
        )
        for command in batch.commands:
            if commands is not None and command.command_id not in commands:
                continue
            given = groups.get(command.command_id) if groups is not None else None
            node.children.append(self._command_node(command, given))
        return node

    def _command_node(self, command: ExecutionCommand, group: Node | None) -> Node:
        ended = self._entries(command.command_id, CommandEnded.kind)
        status = "working"
        data: dict[str, Any] = {"command": _plain(command.model_dump(mode="json"))}
        if ended:
            record = ended[-1].record()
            status = record["status"] + (f" ({record['reason']})" if record.get("reason") else "")
            data["outcome"] = _plain(record)
        target = f" {command.trade_plan_id}" if command.trade_plan_id else ""
        node = Node(
            "command",
            command.command_id,
            f"command {command.command_id} leg {command.leg_index} {command.scope}{target}"
            f" → {status}",
            data,
        )
        for plan in (
            command.entry_plan,
            command.size_plan,
            command.exit_plan,
            command.execution_plan,
        ):
            if plan is not None:
                node.children.append(self._plan_node(plan))
        if group is not None:
            node.children.append(group)
        else:
            for row in self.src.by_ref(command.command_id):
                if row.kind == GroupCreated.kind:
                    node.children.append(self._group_node(row, None))
        return node

    def _plan_node(self, plan: Any) -> Node:
        data = _plain(plan.model_dump(mode="json"))
        pid = plan.plan_id
        if pid.startswith("ENT_"):
            prices = " ".join(
                f"{name} {_num(value)}"
                for name, value in (("limit", plan.limit_price), ("stop", plan.stop_price))
                if value is not None
            )
            label = f"entry plan {pid} {plan.direction} {plan.symbol} {plan.order_type} {prices}"
        elif pid.startswith("SIZ_"):
            if plan.target_size is not None:
                what = f"size {_num(plan.target_size)}"
            else:
                what = f"equity fraction {_num(plan.target_equity_fraction)}"
            label = f"size plan {pid} {what}"
        elif pid.startswith("EXT_"):
            offsets = " (offsets)" if plan.as_offsets else ""
            label = (
                f"exit plan {pid} stop {_num(plan.stop_loss)} "
                f"target {_num(plan.take_profit)}{offsets}"
            )
        else:
            label = (
                f"execution plan {pid} {plan.algorithm} {plan.time_in_force} "
                f"max slippage {_num(plan.max_slippage_pct)}"
            )
        return Node("plan", pid, label.rstrip(), data)

    def _group_node(self, row: EntryRow, orders: set[str] | None) -> Node:
        group = row.event()
        assert isinstance(group, GroupCreated)
        history = self._history(group.group_id, GroupCreated.kind)
        status = "PENDING"
        target = group.target_quantity
        for item in history:
            if item["kind"] == "group_status_changed":
                status = item["status"] + (f" ({item['reason']})" if item.get("reason") else "")
            elif item["kind"] == "group_resized":
                target = Decimal(str(item["target_quantity"]))
        for order_row in self.src.by_ref(group.group_id):
            if order_row.kind != OrderSubmitted.kind:
                continue
            for fill_row in self.src.by_ref(order_row.id):
                if fill_row.kind == OrderFilled.kind:
                    # As the ledger does: a re-sized order's group takes its new size.
                    resized = _fill(fill_row).order_quantity
                    if resized is not None:
                        target = resized
        node = Node(
            "group",
            group.group_id,
            f"group {group.group_id} {group.role} {group.algorithm} target "
            f"{_num(target)} · trade plan {group.trade_plan_id} → {status}",
            {**_plain(row.record()), "history": history},
        )
        for order_row in self.src.by_ref(group.group_id):
            if order_row.kind != OrderSubmitted.kind:
                continue
            if orders is not None and order_row.id not in orders:
                continue
            node.children.append(self._order_node(order_row))
        return node

    def _order_node(self, row: EntryRow) -> Node:
        order = row.event()
        assert isinstance(order, OrderSubmitted)
        history = self._history(order.order_id, OrderSubmitted.kind)
        fills = [r for r in self.src.by_ref(order.order_id) if r.kind == OrderFilled.kind]
        filled = sum((_fill(r).quantity for r in fills), Decimal(0))
        # An equity-fraction order is re-sized at its fill: show the size it was filled at.
        quantity = order.quantity
        for fill_row in fills:
            resized = _fill(fill_row).order_quantity
            if resized is not None:
                quantity = resized
        status = "PENDING"
        for item in history:
            if item["kind"] == "order_status_changed":
                status = item["status"] + (f" ({item['reason']})" if item.get("reason") else "")
        if fills and status in ("PENDING", "OPEN"):
            status = "FILLED" if filled >= quantity else "PARTIALLY_FILLED"
        prices = " ".join(
            f"{name} {_num(value)}"
            for name, value in (("limit", order.limit_price), ("stop", order.stop_price))
            if value is not None
        )
        label = (
            f"order {order.order_id} {order.side} {_num(quantity)} {order.symbol} "
            f"{order.order_type}{' ' + prices if prices else ''} {order.time_in_force}"
            f"{' reduce-only' if order.reduce_only else ''} → {status}, filled {_num(filled)}"
            f" (client id {order.client_order_id}, {_time(order.at)})"
        )
        node = Node("order", order.order_id, label, {**_plain(row.record()), "history": history})
        for fill_row in fills:
            node.children.append(self._fill_node(fill_row))
        return node

    def _fill_node(self, row: EntryRow) -> Node:
        fill = _fill(row)
        late = any(r.kind == "late_fill" for r in self.src.by_id(fill.fill_id))
        label = (
            f"fill {fill.fill_id} {_num(fill.quantity)} @ {_num(fill.price)} fee "
            f"{_num(fill.fee)} {fill.fee_asset} {fill.liquidity} · {_time(fill.at)}"
            f"{' · late (after its command ended)' if late else ''}"
        )
        return Node("fill", fill.fill_id, label, {**_plain(row.record()), "late": late})


def _fill(row: EntryRow) -> OrderFilled:
    event = row.event()
    assert isinstance(event, OrderFilled)
    return event


class JournalSource:
    """An :class:`EntrySource` over a journal still in memory (decodes every entry once).

    ``bars`` gives the bar nodes their prices; facts are only kept by a store.
    """

    def __init__(
        self, journal: Journal, bars: Mapping[str, Bars] | None = None, run_id: str = ""
    ) -> None:
        self.run_id = run_id
        self._bars = dict(bars or {})
        self._rows: list[EntryRow] = []
        self._by_id: dict[str, list[EntryRow]] = {}
        self._by_ref: dict[str, list[EntryRow]] = {}
        self._by_bar: dict[int, list[EntryRow]] = {}
        lines = {seq: (kind, payload) for seq, kind, payload in journal.lines()}
        for seq, (bar, event) in enumerate(journal.bar_events(), 1):
            kind, payload = lines[seq]
            row = EntryRow(seq, bar, kind, event.primary_id(), event.ref_id(), payload)
            self._add(row, event)

    def _add(self, row: EntryRow, event: JournalEvent) -> None:
        self._rows.append(row)
        self._by_id.setdefault(row.id, []).append(row)
        if row.ref is not None:
            self._by_ref.setdefault(row.ref, []).append(row)
        self._by_bar.setdefault(row.bar, []).append(row)

    def by_id(self, entry_id: str) -> list[EntryRow]:
        return list(self._by_id.get(entry_id, ()))

    def by_ref(self, ref: str) -> list[EntryRow]:
        return list(self._by_ref.get(ref, ()))

    def in_bar(self, bar: int) -> list[EntryRow]:
        return list(self._by_bar.get(bar, ()))

    def mentioning(self, text: str, kind: str) -> list[EntryRow]:
        needle = text.encode()
        return [
            r
            for r in self._rows
            if r.kind == kind
            and needle in (r.payload if isinstance(r.payload, bytes) else r.payload.encode())
        ]

    def ids_with_prefix(self, prefix: str) -> list[str]:
        return [i for i in self._by_id if i.startswith(prefix + "_")]

    def bar_info(self, bar: int) -> BarInfo | None:
        if not self._bars or bar not in self._by_bar:
            return None
        rows = self._by_bar[bar]
        first = next(iter(self._bars.values()))
        return BarInfo(
            bar=bar,
            ts=int(first.timestamps[bar]),
            first_seq=rows[0].seq,
            last_seq=rows[-1].seq,
            market={
                s: tuple(float(a[bar]) for a in (b.open, b.high, b.low, b.close, b.volume))
                for s, b in self._bars.items()
            },
            facts={},
        )
