"""The plugin registry: built-ins register themselves, lookups fail with the valid names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import pytest
from pydantic import BaseModel, ConfigDict, Field

from simpletrader.core.errors import PluginError
from simpletrader.dtos import Signal
from simpletrader.plugins import registry
from simpletrader.plugins.base import ROLES, FlowContext, SignalDetector
from simpletrader.plugins.context import SimpleMovingAverage


@pytest.fixture
def clean_registry() -> Iterator[None]:
    registry.available("signal_detector")
    saved = {role: dict(plugins) for role, plugins in registry._REGISTRY.items()}
    yield
    for role, plugins in registry._REGISTRY.items():
        plugins.clear()
        plugins.update(saved[role])


class BreakoutParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    lookback: Annotated[int, Field(ge=2, description="bars in the channel")] = 20
    fact: str


class Breakout(SignalDetector):
    """Long when the close breaks the channel.

    More text that is not the summary.
    """

    Params = BreakoutParams

    def detect(self, ctx: FlowContext) -> Signal | None:
        return None


def test_every_role_has_builtin_plugins_registered() -> None:
    for role in ROLES:
        assert registry.available(role), role
    assert registry.lookup("context_worker", "sma") is SimpleMovingAverage


def test_unknown_plugin_lists_the_registered_ones_and_the_nearest() -> None:
    with pytest.raises(PluginError) as info:
        registry.lookup("signal_detector", "ma_crosover")
    message = str(info.value)
    assert "unknown signal_detector plugin 'ma_crosover'" in message
    assert "did you mean 'ma_crossover'?" in message
    assert "registered: " in message
    assert "ma_crossover" in message.split("registered: ")[1]


def test_plugin_of_another_role_says_which_role_it_belongs_to() -> None:
    with pytest.raises(PluginError, match="'sma' is a context_worker plugin"):
        registry.lookup("signal_detector", "sma")


def test_unknown_role_lists_the_roles() -> None:
    with pytest.raises(PluginError, match="unknown role 'detector'; roles: context_worker, "):
        registry.available("detector")


def test_register_makes_a_plugin_available_under_its_role(clean_registry: None) -> None:
    registry.register("breakout_for_test")(Breakout)
    assert registry.lookup("signal_detector", "breakout_for_test") is Breakout
    assert Breakout.plugin_name == "breakout_for_test"
    registry.register("breakout_for_test")(Breakout)  # the same class again: no error


def test_register_refuses_a_name_taken_by_another_class(clean_registry: None) -> None:
    class Other(Breakout):
        pass

    registry.register("breakout_for_test")(Breakout)
    with pytest.raises(PluginError, match=r"'breakout_for_test' of .*Other is taken by .*Breakout"):
        registry.register("breakout_for_test")(Other)


def test_register_refuses_a_class_without_a_role(clean_registry: None) -> None:
    class NotAPlugin:
        pass

    with pytest.raises(PluginError, match="is not a plugin; subclass one of ContextWorker, "):
        registry.register("nope")(NotAPlugin)  # type: ignore[type-var]


def test_register_refuses_a_plugin_that_does_not_implement_its_method(
    clean_registry: None,
) -> None:
    class Lazy(SignalDetector):
        pass

    with pytest.raises(
        PluginError, match=r"signal_detector plugin 'lazy' .* does not implement detect\(\)"
    ):
        registry.register("lazy")(Lazy)


def test_register_refuses_a_malformed_name(clean_registry: None) -> None:
    with pytest.raises(PluginError, match=r"plugin name 'two words' of .* is not valid"):
        registry.register("two words")(Breakout)


def test_describe_gives_name_role_summary_and_params_with_defaults(clean_registry: None) -> None:
    registry.register("breakout_for_test")(Breakout)
    (info,) = [i for i in registry.describe("signal_detector") if i.name == "breakout_for_test"]
    assert info.role == "signal_detector"
    assert info.summary == "Long when the close breaks the channel."
    assert info.qualname.endswith("test_registry.Breakout")
    lookback, fact = info.params
    assert (lookback.name, lookback.type, lookback.required, lookback.default) == (
        "lookback",
        "int",
        False,
        20,
    )
    assert lookback.constraints == ">= 2"
    assert lookback.description == "bars in the channel"
    assert (fact.name, fact.type, fact.required, fact.default) == ("fact", "str", True, None)


def test_describe_lists_every_role_in_pipeline_order() -> None:
    infos = registry.describe()
    roles = [info.role for info in infos]
    assert roles == sorted(roles, key=ROLES.index)
    sma = next(i for i in infos if i.name == "sma")
    assert sma.summary.startswith("Simple moving average")
    assert [p.name for p in sma.params][:1] == ["period"]
    assert sma.model_dump(mode="json")["params"][0]["required"] is True


def test_describe_leaves_the_summary_empty_without_an_own_docstring(
    clean_registry: None,
) -> None:
    class Undocumented(Breakout):
        pass

    Undocumented.__doc__ = None
    registry.register("undocumented_for_test")(Undocumented)
    (info,) = [i for i in registry.describe("signal_detector") if i.name == "undocumented_for_test"]
    assert info.summary == ""
