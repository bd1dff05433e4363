"""Blueprint fields addressed by dotted paths: overridden, validated, or rejected with choices."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sweep_helpers import EXAMPLE

from simpletrader.config.blueprint import Blueprint
from simpletrader.config.loader import load_blueprint
from simpletrader.core.enums import BatchExecutionMode
from simpletrader.core.errors import ConfigError
from simpletrader.sweep.overrides import (
    apply_overrides,
    blueprint_mapping,
    resolve_sources,
    symbol_source,
    with_symbol,
)


@pytest.fixture(scope="module")
def example() -> Blueprint:
    return load_blueprint(EXAMPLE)


def test_plugin_param_by_index_and_by_instance_name(example: Blueprint) -> None:
    changed = apply_overrides(
        example,
        {
            "workforce.context_worker.0.params.period": 7,
            "workforce.context_worker.slow.params.period": 70,
        },
    )
    assert changed.workforce.context_worker[0].params == {"period": 7}
    assert changed.workforce.context_worker[1].params == {"period": 70}
    assert example.workforce.context_worker[0].params == {"period": 10}


def test_fields_left_at_their_defaults_can_be_swept(example: Blueprint) -> None:
    changed = apply_overrides(
        example,
        {
            "execution.costs.spread_bps": 2.5,
            "execution.policy.mode": "SEQUENTIAL",
            "workforce.context_worker.fast.params.source": "open",
        },
    )
    assert changed.execution.costs.spread_bps == Decimal("2.5")
    assert changed.execution.policy.mode is BatchExecutionMode.SEQUENTIAL
    assert changed.workforce.context_worker[0].params["source"] == "open"


def test_overriding_keeps_what_was_not_written_unwritten(example: Blueprint) -> None:
    changed = apply_overrides(example, {"seed": 7})
    assert blueprint_mapping(changed) == {**blueprint_mapping(example), "seed": 7}
    assert "confidence" not in changed.workforce.context_worker[0].model_fields_set


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "wrkforce.x",
            r"the blueprint has no field 'wrkforce'; valid: name, .*workforce.*"
            r" \(did you mean 'workforce'\?\)",
        ),
        (
            "workforce.signal.0.params.fast",
            r"workforce has no field 'signal'; valid: context_worker, signal_detector",
        ),
        (
            "workforce.context_worker.2.params.period",
            r"workforce.context_worker is a list of 2; no item '2'; valid: 0, 1, fast, slow",
        ),
        (
            "workforce.context_worker.0.params.perod",
            r"\(params of sma\) has no field 'perod'; valid: period, source, symbol"
            r" \(did you mean 'period'\?\)",
        ),
        ("execution.costs.fee", r"execution.costs has no field 'fee'; valid: fee_bps"),
        ("seed.x", r"seed is a value \(42\), not a mapping or list"),
        ("workforce..period", r"empty part"),
    ],
)
def test_unknown_path_names_the_path_and_the_valid_choices(
    example: Blueprint, path: str, expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected) as caught:
        apply_overrides(example, {path: 1})
    assert path in str(caught.value)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "workforce.context_worker.0.params.period",
            0,
            r"params.period: Input should be greater than or equal to 1 \(got 0\)",
        ),
        (
            "workforce.context_worker.0.params.period",
            "abc",
            r"params.period: Input should be a valid integer",
        ),
        (
            "execution.costs.fee_bps",
            -1,
            r"execution.costs.fee_bps: Input should be greater than or equal to 0",
        ),
        (
            "execution.policy.mode",
            "BOGUS",
            r"'INDEPENDENT', 'COORDINATED' or 'SEQUENTIAL' \(got 'BOGUS'\)",
        ),
        (
            "workforce.exit_planner.0.plugin",
            "nope",
            r"unknown exit_planner plugin 'nope'; registered: .*no_exit",
        ),
    ],
)
def test_invalid_value_names_path_value_and_what_is_valid(
    example: Blueprint, path: str, value: object, expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected) as caught:
        apply_overrides(example, {path: value})
    assert f"{path}={value!r}" in str(caught.value)


def test_swapped_plugin_is_in_place_before_its_params_are_checked(example: Blueprint) -> None:
    changed = apply_overrides(
        example,
        {
            "workforce.context_worker.1.params.period": 40,
            "workforce.context_worker.1.plugin": "sma",
        },
    )
    assert changed.workforce.context_worker[1].params == {"period": 40}


def test_relative_sources_become_absolute_and_data_replaces_them(tmp_path: Path) -> None:
    csv = tmp_path / "bars.csv"
    csv.write_text("timestamp,open,high,low,close,volume\n")
    blueprint = load_blueprint(EXAMPLE)
    assert resolve_sources(blueprint, EXAMPLE.parent).data.symbols[0].source == "GOOG_1d"
    replaced = resolve_sources(blueprint, None, data=[str(csv)], start="2010-01-01")
    assert replaced.data.symbols[0].source == str(csv.resolve())
    assert replaced.data.start is not None
    assert replaced.data.start.startswith("2010-01-01")
    with pytest.raises(ConfigError, match=r"--data was given 2 time\(s\).*1 symbol"):
        resolve_sources(blueprint, None, data=[str(csv), str(csv)])


@pytest.mark.parametrize(
    ("item", "expected"),
    [("SPX_1d", ("SPX", "SPX_1d")), ("NASDAQ", ("NASDAQ", "NASDAQ_1d"))],
)
def test_symbols_name_samples_or_their_symbols(item: str, expected: tuple[str, str]) -> None:
    assert symbol_source(item) == expected


def test_symbols_take_files_with_or_without_a_name(tmp_path: Path) -> None:
    csv = tmp_path / "ABC_1d.csv"
    csv.write_text("timestamp,open,high,low,close,volume\n")
    assert symbol_source(str(csv)) == ("ABC", str(csv.resolve()))
    assert symbol_source(f"XYZ={csv}") == ("XYZ", str(csv.resolve()))


def test_unknown_symbol_lists_the_samples() -> None:
    with pytest.raises(ConfigError, match=r"'NOPE' is neither a bundled sample \(GOOG_1d, "):
        symbol_source("NOPE")


def test_with_symbol_replaces_the_one_symbol(example: Blueprint) -> None:
    changed = with_symbol(example, "SPX", "SPX_1d")
    assert [(s.symbol, s.source) for s in changed.data.symbols] == [("SPX", "SPX_1d")]
