"""The built-in plugin reference (``docs/plugins.md``), generated from the registry.

python -m simpletrader.plugins.reference > docs/plugins.md
"""

from __future__ import annotations

import re

from simpletrader.plugins.base import ROLES, PlannerParams
from simpletrader.plugins.registry import PluginInfo, describe

_ROLE_NOTES = {
    "context_worker": "Objective facts over the whole history, checked causal at bootstrap. "
    "A worker's facts are named ``<name>`` (its main value) or ``<name>.<key>``.",
    "signal_detector": "Opportunities read from facts on the current bar; each fires on the "
    "bar its condition starts.",
    "risk_monitor": "Threats read from facts and the account; each fires on the bar a threat "
    "starts and re-arms when it clears. Severity is 0.5 at the limit, 1 at twice the limit.",
    "strategy_planner": "Exactly one per strategy; at most one directive per flow. Every "
    "built-in also takes ``policy`` (mode, timeout as a duration, unwind_filled_legs; default: "
    "the blueprint's ``execution.policy``), ``size_directive``, ``exit_directive``, "
    "``routing_directive`` and ``leg_slippage`` (every leg's max_acceptable_slippage; default "
    "0.005 of the decision close).",
    "entry_planner": "Order type and price of a NEW_TRADE or resizing MODIFY leg.",
    "exit_planner": "Protective stop and target of a NEW_TRADE leg (offsets from the fill); an "
    "exit-only MODIFY leg gets a trailing stop from the directive's ``stop_loss_tolerance``, "
    "never loosened.",
    "size_planner": "Runs after entry and exit. A leg's own ``target_size``/``target_weight`` "
    "always wins; otherwise the budget is split between NEW_TRADE legs by ``size_weight``.",
    "execution_planner": "Algorithm, time in force and hard limits of each leg's orders.",
}


# ``tuple[Annotated[float, FieldInfo(...metadata=[Ge(ge=0.0)])], ...]`` reads as
# ``tuple[float, ...]``: the bounds of inner items are in the description where they matter.
_INNER_ANNOTATED = re.compile(r"Annotated\[([\w.]+), FieldInfo\([^]]*\]\)\]")


def _type(text: str) -> str:
    return _INNER_ANNOTATED.sub(r"\1", text).replace("simpletrader.plugins.base.", "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# Every built-in strategy planner shares these; the role's note lists them once.
_SHARED = frozenset(PlannerParams.model_fields)


def _plugin(info: PluginInfo) -> list[str]:
    lines = [f"### `{info.name}`", "", _cell(info.summary), ""]
    params = [p for p in info.params if not (info.role == "strategy_planner" and p.name in _SHARED)]
    if not params:
        return [*lines, "No params of its own." if info.params else "No params.", ""]
    lines += ["| param | type | default | meaning |", "|---|---|---|---|"]
    for p in params:
        default = "required" if p.required else f"`{p.default!r}`"
        meaning = "; ".join(x for x in (p.description, p.constraints) if x)
        kind = _cell(_type(p.type))
        lines.append(f"| `{p.name}` | `{kind}` | {_cell(default)} | {_cell(meaning)} |")
    return [*lines, ""]


def reference_markdown() -> str:
    """The Markdown reference of every built-in plugin, by role in pipeline order."""
    infos = [i for i in describe() if i.qualname.startswith("simpletrader.plugins.")]
    out = [
        "# Built-in plugins",
        "",
        "Generated from the plugin registry by "
        "`python -m simpletrader.plugins.reference > docs/plugins.md`; a test keeps it in sync.",
        "",
    ]
    for role in ROLES:
        of_role = [i for i in infos if i.role == role]
        if not of_role:
            continue
        out += [f"## {role}", "", _ROLE_NOTES.get(role, ""), ""]
        for info in of_role:
            out += _plugin(info)
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(reference_markdown(), end="")
