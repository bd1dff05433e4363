"""Every way a blueprint can be wrong names the file, the line, the field and what is valid."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from simpletrader.config.loader import load_blueprint, parse_blueprint
from simpletrader.core.errors import ConfigError

VALID = """\
name: t
data:
  symbols:
    - symbol: GOOG
      source: GOOG_1d
workforce:
  strategy_planner:
    plugin: signal_to_directive
"""


def error_of(tmp_path: Path, text: str) -> tuple[str, str]:
    """(path, message) of loading ``text`` from a file."""
    path = tmp_path / "bp.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(ConfigError) as info:
        load_blueprint(path)
    return str(path), str(info.value)


def with_lines(*lines: str) -> str:
    return VALID + "".join(f"{line}\n" for line in lines)


def test_the_valid_base_loads(tmp_path: Path) -> None:
    path = tmp_path / "bp.yaml"
    path.write_text(VALID)
    assert load_blueprint(path).name == "t"


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, "name: t\ndata:\n  symbols: [GOOG\nworkforce: {}\n")
    assert message.startswith(f"{path}:4: invalid YAML (column 10): expected ',' or ']'")


def test_tab_indentation_says_yaml_wants_spaces(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, "name: t\ndata:\n\tsymbols: []\n")
    assert message.startswith(f"{path}:3: invalid YAML")
    assert message.endswith("YAML indents with spaces, not tabs")


def test_a_list_is_not_a_blueprint(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, "- name: t\n")
    assert message == (
        f"{path}:1: a blueprint is a YAML mapping (key: value) with name, description, seed, "
        f"account, data, workforce, execution, store; got a list"
    )


def test_a_scalar_is_not_a_blueprint(tmp_path: Path) -> None:
    _, message = error_of(tmp_path, "just text\n")
    assert message.endswith("got str 'just text'")


def test_an_empty_file_is_reported_as_empty(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, "# nothing yet\n")
    assert message.startswith(f"{path}: the blueprint is empty; expected a mapping with name,")


def test_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, with_lines("seed: 1", "seed: 2"))
    assert message == (
        f"{path}:10: seed: duplicate key (first at line 9); YAML would keep only the last one"
    )


def test_duplicate_nested_key_has_its_full_path(tmp_path: Path) -> None:
    path, message = error_of(
        tmp_path, with_lines("execution:", "  costs:", "    fee_bps: 1", "    fee_bps: 2")
    )
    assert message.startswith(
        f"{path}:12: execution.costs.fee_bps: duplicate key (first at line 11)"
    )


def test_missing_required_top_level_field(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, VALID.replace("name: t\n", ""))
    assert message == f"{path}:1: name: missing required field"


def test_missing_required_nested_field_points_at_its_parent(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, VALID.replace("      source: GOOG_1d\n", ""))
    assert message == f"{path}:4: data.symbols.0.source: missing required field"


def test_missing_strategy_planner(tmp_path: Path) -> None:
    text = VALID.replace(
        "  strategy_planner:\n    plugin: signal_to_directive\n", "  risk_monitor: []\n"
    )
    path, message = error_of(tmp_path, text)
    assert message == f"{path}:6: workforce.strategy_planner: missing required field"


def test_unknown_key_suggests_the_nearest_and_lists_the_valid_ones(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, with_lines("execution:", "  costs: {fee_bsp: 1}"))
    assert message == (
        f"{path}:10: execution.costs.fee_bsp: unknown key; did you mean 'fee_bps'? valid keys: "
        f"fee_bps, fee_per_unit, fee_minimum, spread_bps, slippage_bps, borrow_bps_per_year"
    )


def test_unknown_role_suggests_the_role(tmp_path: Path) -> None:
    text = VALID.replace("workforce:\n", "workforce:\n  signal_detectors: []\n")
    path, message = error_of(tmp_path, text)
    assert message.startswith(
        f"{path}:7: workforce.signal_detectors: unknown key; did you mean 'signal_detector'? "
        f"valid keys: context_worker, signal_detector, risk_monitor, strategy_planner,"
    )


def test_unknown_key_without_a_near_one_still_lists_the_valid_keys(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, with_lines("account: {wallet: 5}"))
    assert message == (
        f"{path}:9: account.wallet: unknown key; valid keys: starting_cash, currency"
    )


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, with_lines("worforce: {}"))
    assert message.startswith(f"{path}:9: worforce: unknown key; did you mean 'workforce'?")


def test_wrong_type_shows_the_value(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, with_lines("seed: abc"))
    assert message == (
        f"{path}:9: seed: Input should be a valid integer, unable to parse string as an integer "
        f"(got 'abc')"
    )


def test_wrong_number_shows_the_limit_and_the_value(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, with_lines("account:", "  starting_cash: -5"))
    assert message == f"{path}:10: account.starting_cash: Input should be greater than 0 (got -5)"


def test_a_mapping_where_a_list_is_expected_says_list(tmp_path: Path) -> None:
    text = VALID.replace(
        "  symbols:\n    - symbol: GOOG\n      source: GOOG_1d\n",
        "  symbols: {GOOG: GOOG_1d}\n",
    )
    path, message = error_of(tmp_path, text)
    assert message == f"{path}:3: data.symbols: Input should be a list"


def test_yaml_boolean_for_text_says_to_quote_it(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, with_lines("account: {currency: NO}"))
    assert message == (
        f"{path}:9: account.currency: Input should be a valid string; YAML reads "
        f"yes/no/on/off/true/false as booleans, quote the value (got False)"
    )


def test_bad_duration_names_the_accepted_forms(tmp_path: Path) -> None:
    path, message = error_of(
        tmp_path, with_lines("execution:", "  policy:", "    timeout: two days")
    )
    assert message == (
        f"{path}:11: execution.policy.timeout: duration 'two days' is not understood; use a "
        f"whole number and a unit: s, m, h, d, w or bars (e.g. '30s', '90m', '2h', '2d', '1w', "
        f"'3 bars'), or a whole number of seconds"
    )


def test_negative_latency(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, with_lines("execution:", "  venue: {latency: -1}"))
    assert message.startswith(f"{path}:10: execution.venue.latency: latency -1 must be >= 0")


@pytest.mark.parametrize(
    ("confidence", "expected"),
    [
        ("[0.6, 0.2]", "confidence range [0.6, 0.2) must satisfy 0 <= lo < hi <= 1"),
        ("[0, 1.5]", "confidence range [0.0, 1.5) must satisfy 0 <= lo < hi <= 1"),
        ("[0.5, 0.5]", "confidence range [0.5, 0.5) must satisfy 0 <= lo < hi <= 1"),
    ],
)
def test_bad_confidence_range(tmp_path: Path, confidence: str, expected: str) -> None:
    path, message = error_of(
        tmp_path,
        with_lines(
            "  size_planner:", "    - plugin: equity_fraction", f"      confidence: {confidence}"
        ),
    )
    assert message.startswith(f"{path}:11: workforce.size_planner.0.confidence: {expected}")


def test_confidence_range_of_three_numbers(tmp_path: Path) -> None:
    path, message = error_of(
        tmp_path,
        with_lines(
            "  size_planner:", "    - plugin: equity_fraction", "      confidence: [0, 0.5, 1]"
        ),
    )
    assert message == (
        f"{path}:11: workforce.size_planner.0.confidence: List should have at most 2 items, not 3"
    )


def test_confidence_range_on_a_detector_is_refused(tmp_path: Path) -> None:
    text = VALID.replace(
        "workforce:\n",
        "workforce:\n  signal_detector:\n    - plugin: ma_crossover\n      confidence: [0, 0.5]\n",
    )
    path, message = error_of(tmp_path, text)
    assert message == (
        f"{path}:7: workforce.signal_detector: item 0 (ma_crossover) has a confidence range, but "
        f"only the planning roles (entry_planner, exit_planner, size_planner, execution_planner) "
        f"are selected by confidence"
    )


def test_strategy_planner_as_a_list_says_exactly_one(tmp_path: Path) -> None:
    text = VALID.replace(
        "  strategy_planner:\n    plugin: signal_to_directive\n",
        "  strategy_planner:\n    - signal_to_directive\n    - rebalance\n",
    )
    path, message = error_of(tmp_path, text)
    assert message == (
        f"{path}:7: workforce.strategy_planner: a strategy has exactly one strategy_planner; "
        f"write it as a mapping (plugin: ..., params: ...), not a list of 2"
    )


def test_strategy_planner_has_no_confidence_range(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, with_lines("    confidence: [0.5, 1]"))
    assert message.startswith(f"{path}:7: workforce.strategy_planner: the strategy planner sets")


def test_an_empty_planning_role_says_to_leave_it_out(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, with_lines("  entry_planner: []"))
    assert message == (
        f"{path}:9: workforce.entry_planner: needs at least one plugin; leave the key out to use "
        f"the default planner"
    )


def test_two_context_workers_with_one_name(tmp_path: Path) -> None:
    text = VALID.replace(
        "workforce:\n",
        "workforce:\n  context_worker:\n    - {plugin: sma, params: {period: 5}}\n"
        "    - {plugin: sma, params: {period: 9}}\n",
    )
    path, message = error_of(tmp_path, text)
    assert message.startswith(
        f"{path}:7: workforce.context_worker: items 0 and 1 are both named 'sma'"
    )


def test_a_symbol_listed_twice(tmp_path: Path) -> None:
    text = VALID.replace(
        "      source: GOOG_1d\n", "      source: GOOG_1d\n    - {symbol: GOOG, source: x.csv}\n"
    )
    path, message = error_of(tmp_path, text)
    assert message == f"{path}:3: data.symbols: symbol 'GOOG' appears twice: items 0 and 1"


def test_start_after_end(tmp_path: Path) -> None:
    text = VALID.replace("workforce:\n", "  start: 2020-01-01\n  end: 2019-01-01\nworkforce:\n")
    path, message = error_of(tmp_path, text)
    assert message == f"{path}:2: data: start 2020-01-01 is after end 2019-01-01"


def test_a_date_that_is_not_iso(tmp_path: Path) -> None:
    text = VALID.replace("workforce:\n", "  start: 01/02/2020\nworkforce:\n")
    path, message = error_of(tmp_path, text)
    assert message.startswith(
        f"{path}:6: data.start: '01/02/2020' is not an ISO-8601 date or time; use e.g. 2020-01-31"
    )


def test_a_bad_timeframe(tmp_path: Path) -> None:
    text = VALID.replace("workforce:\n", "  timeframe: 1 hour\nworkforce:\n")
    path, message = error_of(tmp_path, text)
    assert message.startswith(f"{path}:6: data.timeframe: timeframe '1 hour' is not valid;")


def test_unwind_without_coordinated_mode(tmp_path: Path) -> None:
    path, message = error_of(
        tmp_path, with_lines("execution:", "  policy: {mode: SEQUENTIAL, unwind_filled_legs: true}")
    )
    assert message == (
        f"{path}:10: execution.policy: unwind_filled_legs is only valid with mode COORDINATED "
        f"(mode is SEQUENTIAL)"
    )


def test_an_unknown_batch_mode_lists_the_modes(tmp_path: Path) -> None:
    path, message = error_of(tmp_path, with_lines("execution:", "  policy: {mode: ATOMIC}"))
    assert message == (
        f"{path}:10: execution.policy.mode: Input should be 'INDEPENDENT', 'COORDINATED' or "
        f"'SEQUENTIAL' (got 'ATOMIC')"
    )


def test_an_outage_that_ends_before_it_starts(tmp_path: Path) -> None:
    path, message = error_of(
        tmp_path,
        with_lines(
            "execution:",
            "  faults:",
            "    outages:",
            "      - {start: 2020-01-02, end: 2020-01-01}",
        ),
    )
    assert message == (
        f"{path}:12: execution.faults.outages.0: outage start 2020-01-02T00:00:00+00:00 is not "
        f"before end 2020-01-01T00:00:00+00:00"
    )


def test_a_probability_above_one(tmp_path: Path) -> None:
    path, message = error_of(
        tmp_path, with_lines("execution:", "  faults: {reject_probability: 1.5}")
    )
    assert message == (
        f"{path}:10: execution.faults.reject_probability: Input should be less than or equal to 1 "
        f"(got 1.5)"
    )


def test_every_problem_is_reported_in_file_order(tmp_path: Path) -> None:
    path, message = error_of(
        tmp_path,
        "name: t\nseed: x\ndata:\n  symbols: [{symbol: A, source: B}]\n"
        "workforce:\n  strategy_planner: {plugin: p}\naccount: {starting_cash: 0}\n",
    )
    assert message.split("; ") == [
        f"{path}:2: seed: Input should be a valid integer, unable to parse string as an integer "
        f"(got 'x')",
        f"{path}:7: account.starting_cash: Input should be greater than 0 (got 0)",
    ]


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"blueprint file not found: .*nope\.yaml"):
        load_blueprint(tmp_path / "nope.yaml")


def test_a_directory_is_not_a_blueprint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="blueprint path is not a file"):
        load_blueprint(tmp_path)


def test_text_without_a_file_uses_the_given_label() -> None:
    with pytest.raises(ConfigError, match=r"^<inline>:1: data: missing required field"):
        parse_blueprint("name: t\nworkforce: {strategy_planner: {plugin: p}}\n", "<inline>")
