"""explain walks from any id back to its bar and down to its fills (in-memory journal)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from simpletrader.backtest.engine import BacktestRun, run_backtest
from simpletrader.config.loader import load_blueprint
from simpletrader.core.errors import UnknownIdError
from simpletrader.journal.explain import Explanation, JournalSource, Node, explain

EXAMPLE = Path(__file__).parents[2] / "src" / "simpletrader" / "examples" / "sma_cross_goog.yaml"


@pytest.fixture(scope="module")
def run() -> BacktestRun:
    return run_backtest(load_blueprint(EXAMPLE))


@pytest.fixture(scope="module")
def source(run: BacktestRun) -> JournalSource:
    return JournalSource(run.journal, run.bars, run.run_id)


def kinds_on_path(explanation: Explanation, target: str) -> list[str]:
    """Node kinds from the chain's root down to the target node."""

    def path(node: Node) -> list[Node] | None:
        if node.id == target:
            return [node]
        for child in node.children:
            found = path(child)
            if found is not None:
                return [node, *found]
        return None

    for root in explanation.roots:
        found = path(root)
        if found is not None:
            return [n.kind for n in found]
    raise AssertionError(f"{target} not in the explanation")


def ids_of(nodes: Iterable[Node], kind: str) -> list[str]:
    return [n.id for n in nodes if n.kind == kind and n.id is not None]


def test_an_order_is_explained_from_its_bar_down_to_its_fills(
    run: BacktestRun, source: JournalSource
) -> None:
    order_id = next(iter(run.ledger.orders))
    explanation = explain(source, order_id)
    assert explanation.kind == "order"
    assert kinds_on_path(explanation, order_id) == [
        "bar",
        "directive",
        "batch",
        "command",
        "group",
        "order",
    ]
    nodes = list(explanation.nodes())
    (root,) = explanation.roots
    assert root.kind == "bar"
    assert root.data["market"]["GOOG"]["close"] > 0
    assert {"origin", "signal", "directive"} <= {c.kind for c in root.children}
    fills = [f.fill_id for f in run.ledger.fills if f.order_id == order_id]
    assert ids_of(nodes, "fill") == fills
    assert [n.id for n in nodes if n.target] == [order_id]
    order_node = next(n for n in nodes if n.id == order_id)
    assert "FILLED" in order_node.label
    assert order_node.data["client_order_id"] == run.ledger.orders[order_id].client_order_id


def test_a_fill_is_explained_through_its_order(run: BacktestRun, source: JournalSource) -> None:
    fill = run.ledger.fills[3]
    explanation = explain(source, fill.fill_id)
    assert kinds_on_path(explanation, fill.fill_id)[-2:] == ["order", "fill"]
    assert [n.id for n in explanation.nodes() if n.target] == [fill.fill_id]


def test_a_trade_plan_is_explained_by_its_opening_and_closing_chains(
    run: BacktestRun, source: JournalSource
) -> None:
    plan_id = next(p for p, plan in run.ledger.plans.items() if plan.status == "CLOSED")
    explanation = explain(source, plan_id)
    (root,) = explanation.roots
    assert root.kind == "trade_plan"
    assert root.target
    assert [c.kind for c in root.children] == ["bar", "bar"]
    scopes = [n.data["command"]["scope"] for n in explanation.nodes() if n.kind == "command"]
    assert scopes == ["NEW_TRADE", "CLOSE_EXISTING"]
    plan = run.ledger.plans[plan_id]
    assert ids_of(explanation.nodes(), "group") == list(plan.group_ids)


@pytest.mark.parametrize("prefix", ["BAT", "STR", "EXC", "EXG", "ENT", "SIZ", "EXP", "TCK"])
def test_every_link_of_the_chain_can_be_asked_about(
    run: BacktestRun, source: JournalSource, prefix: str
) -> None:
    order_id = next(iter(run.ledger.orders))
    chain = explain(source, order_id)
    asked = next(n.id for n in chain.nodes() if n.id is not None and n.id.startswith(prefix))
    explanation = explain(source, asked)
    nodes = list(explanation.nodes())
    assert [n.id for n in nodes if n.target] == [asked]
    assert order_id in ids_of(nodes, "order")  # below the asked id: everything it led to


def test_a_signal_the_planner_ignored_is_explained_with_a_note(
    run: BacktestRun, source: JournalSource
) -> None:
    acted_on = {s for n in _all_chains(run, source) for s in ids_of(n.nodes(), "signal")}
    ignored = [
        r["id"]
        for r in run.journal.records(kinds={"flow"})
        if r["type"] == "Signal" and r["id"] not in acted_on
    ]
    assert ignored, "the example's first cross is down while flat: no directive"
    explanation = explain(source, ignored[0])
    (root,) = explanation.roots
    assert [c.kind for c in root.children][-3:] == ["origin", "signal", "note"]


def _all_chains(run: BacktestRun, source: JournalSource) -> list[Explanation]:
    return [explain(source, order_id) for order_id in run.ledger.orders]


def test_the_json_form_is_the_same_tree(run: BacktestRun, source: JournalSource) -> None:
    order_id = next(iter(run.ledger.orders))
    explanation = explain(source, order_id)
    as_dict = explanation.to_dict()
    assert as_dict["id"] == order_id
    assert as_dict["run_id"] == run.run_id

    def count(node: dict[str, object]) -> int:
        children = node["children"]
        assert isinstance(children, list)
        return 1 + sum(count(c) for c in children)

    assert sum(count(c) for c in as_dict["chains"]) == len(list(explanation.nodes()))


def test_an_unknown_id_names_its_kind_and_the_nearest_ids(
    run: BacktestRun, source: JournalSource
) -> None:
    order_id = next(iter(run.ledger.orders))
    typo = order_id[:-1] + ("0" if order_id[-1] != "0" else "1")
    with pytest.raises(UnknownIdError, match=f"no order {typo} in run {run.run_id}") as info:
        explain(source, typo)
    assert order_id in info.value.suggestions
    assert info.value.suggestions[0] == order_id


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("hello", "not an id explain knows"),
        ("RUN_20240102_030405_00000001", "is a run id"),
        ("JRN_20240102_030405_00000001", "not an id explain knows"),
    ],
)
def test_malformed_ids_say_what_an_id_looks_like(
    source: JournalSource, bad: str, message: str
) -> None:
    with pytest.raises(UnknownIdError, match=message):
        explain(source, bad)


def test_an_order_resized_at_its_fill_shows_its_filled_size_and_status(
    run: BacktestRun, source: JournalSource
) -> None:
    # Equity-fraction entries are estimated at the decision close and re-sized at the fill.
    entries = [o for o in run.ledger.orders.values() if not o.reduce_only]
    assert entries
    for order in entries:
        node = next(
            n for n in _walk(explain(source, order.order_id).roots) if n.id == order.order_id
        )
        assert f" {order.quantity} " in node.label
        assert "→ FILLED" in node.label


def _walk(nodes: Iterable[Node]) -> Iterable[Node]:
    for node in nodes:
        yield node
        yield from _walk(node.children)
