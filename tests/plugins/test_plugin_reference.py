"""docs/plugins.md is the generated reference of every built-in plugin, and stays in sync."""

from __future__ import annotations

from pathlib import Path

from simpletrader.plugins.base import ROLES
from simpletrader.plugins.reference import reference_markdown
from simpletrader.plugins.registry import available

DOC = Path(__file__).parents[2] / "docs" / "plugins.md"


def test_docs_plugins_md_is_the_generated_reference() -> None:
    assert DOC.read_text(encoding="utf-8") == reference_markdown(), (
        "docs/plugins.md is stale: python -m simpletrader.plugins.reference > docs/plugins.md"
    )


def test_the_reference_lists_every_built_in_plugin_with_a_summary() -> None:
    text = reference_markdown()
    for role in ROLES:
        assert f"## {role}" in text
        for name, cls in available(role).items():
            if cls.__module__.startswith("simpletrader.plugins."):
                assert f"### `{name}`" in text
                assert cls.__dict__.get("__doc__"), f"{name} has no docstring of its own"
