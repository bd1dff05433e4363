"""Third-party plugins arrive through the entry-point group ``simpletrader.plugins``.

Each test "installs" a distribution into a temporary site directory the way pip lays it out
(a module plus ``<name>-<version>.dist-info/`` with ``METADATA`` and ``entry_points.txt``) and
puts that directory on ``sys.path``: offline, and nothing outside ``tmp_path`` changes.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from simpletrader.core.errors import PluginError
from simpletrader.plugins import registry

DETECTOR_MODULE = '''
from simpletrader.plugins.base import SignalDetector
from simpletrader.plugins.registry import register


@register("acme_breakout")
class AcmeBreakout(SignalDetector):
    """Acme's channel breakout."""

    def detect(self, ctx):
        return None
'''

UNDECORATED_MODULE = '''
from simpletrader.plugins.base import ContextWorker


class AcmeRange(ContextWorker):
    """High minus low."""

    def compute(self, bars):
        b = next(iter(bars.values()))
        return {"value": b.high - b.low}


def not_a_plugin():
    return None
'''


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty site directory on sys.path; the registry is restored afterwards."""
    registry.available("signal_detector")
    saved = {role: dict(plugins) for role, plugins in registry._REGISTRY.items()}
    before = set(sys.modules)
    directory = tmp_path / "site"
    directory.mkdir()
    monkeypatch.syspath_prepend(str(directory))
    yield directory
    for name in set(sys.modules) - before:
        if name.startswith("acme_"):
            del sys.modules[name]
    for role, plugins in registry._REGISTRY.items():
        plugins.clear()
        plugins.update(saved[role])
    monkeypatch.undo()
    registry.reload_entry_points()


def install(site: Path, dist: str, modules: dict[str, str], entry_points: dict[str, str]) -> None:
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{registry.ENTRY_POINT_GROUP}]\n{lines}")


def test_plugin_module_published_as_entry_point_is_found(site: Path) -> None:
    install(site, "acme_signals", {"acme_signals": DETECTOR_MODULE}, {"acme": "acme_signals"})
    with pytest.raises(PluginError, match="unknown signal_detector plugin 'acme_breakout'"):
        registry.lookup("signal_detector", "acme_breakout")
    registry.reload_entry_points()
    found = registry.lookup("signal_detector", "acme_breakout")
    assert found.__module__ == "acme_signals"
    summaries = {i.name: i.summary for i in registry.describe("signal_detector")}
    assert summaries["acme_breakout"] == "Acme's channel breakout."


def test_plugin_class_named_by_an_entry_point_is_registered_under_its_name(site: Path) -> None:
    install(
        site,
        "acme_workers",
        {"acme_workers": UNDECORATED_MODULE},
        {"acme_range": "acme_workers:AcmeRange"},
    )
    registry.reload_entry_points()
    plugin = registry.lookup("context_worker", "acme_range")
    assert plugin.__qualname__ == "AcmeRange"
    assert plugin.plugin_name == "acme_range"


def test_broken_entry_point_gives_a_plugin_error_naming_it(site: Path) -> None:
    install(
        site,
        "acme_broken",
        {"acme_broken": "import acme_missing_dependency\n"},
        {"acme_bad": "acme_broken"},
    )
    with pytest.raises(PluginError) as info:
        registry.reload_entry_points()
    message = str(info.value)
    assert "entry point 'acme_bad' = 'acme_broken' (distribution acme_broken 1.0)" in message
    assert "ModuleNotFoundError: No module named 'acme_missing_dependency'" in message
    assert f"group '{registry.ENTRY_POINT_GROUP}'" in message
    assert "fix or uninstall the distribution" in message
    # Every later lookup fails the same way until the distribution is fixed and reloaded.
    with pytest.raises(PluginError, match="entry point 'acme_bad'"):
        registry.lookup("context_worker", "sma")


def test_entry_point_naming_neither_module_nor_plugin_class_is_refused(site: Path) -> None:
    install(
        site, "acme_odd", {"acme_odd": UNDECORATED_MODULE}, {"acme_fn": "acme_odd:not_a_plugin"}
    )
    with pytest.raises(PluginError, match=r"'acme_fn'.*neither a module nor a plugin class"):
        registry.reload_entry_points()


def test_third_party_plugin_cannot_take_a_builtin_name(site: Path) -> None:
    clash = DETECTOR_MODULE.replace('"acme_breakout"', '"ma_crossover"')
    install(site, "acme_clash", {"acme_clash": clash}, {"acme": "acme_clash"})
    with pytest.raises(PluginError, match=r"'ma_crossover' of acme_clash\.AcmeBreakout is taken"):
        registry.reload_entry_points()


def test_every_broken_entry_point_is_listed(site: Path) -> None:
    install(
        site,
        "acme_two",
        {},
        {"first": "acme_nothing_here", "second": "acme_nothing_either"},
    )
    with pytest.raises(PluginError, match="2 plugin entry point") as info:
        registry.reload_entry_points()
    assert "'first'" in str(info.value)
    assert "'second'" in str(info.value)
