"""The blueprint schema of DESIGN.md §7: what a valid blueprint reads as, with its source map."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from simpletrader.config import Blueprint, PluginSpec, load_blueprint, parse_blueprint
from simpletrader.config.blueprint import Workforce
from simpletrader.core.enums import BatchExecutionMode

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "src" / "simpletrader" / "examples" / "sma_cross_goog.yaml"
BENCH = ROOT / "benchmarks" / "sma_cross_bench.yaml"
DOCS = ROOT / "docs" / "blueprint.md"

MINIMAL = """\
name: t
data:
  symbols:
    - {symbol: GOOG, source: GOOG_1d}
workforce:
  strategy_planner: {plugin: signal_to_directive}
"""


def docs_example() -> str:
    match = re.search(r"```yaml\n(.*?)```", DOCS.read_text(), re.S)
    assert match is not None
    return match.group(1)


def test_minimal_blueprint_gets_every_default() -> None:
    bp = parse_blueprint(MINIMAL)
    assert bp.seed == 0
    assert bp.account.starting_cash == Decimal(100_000)
    assert bp.account.currency == "USD"
    assert [s.plugin for s in bp.workforce.entry_planner] == ["market_entry"]
    assert [s.plugin for s in bp.workforce.exit_planner] == ["no_exit"]
    assert [s.plugin for s in bp.workforce.size_planner] == ["equity_fraction"]
    assert [s.plugin for s in bp.workforce.execution_planner] == ["single_order"]
    ex = bp.execution
    assert (ex.venue.fill_on_close, ex.venue.latency, ex.venue.participation_cap) == (
        False,
        0,
        None,
    )
    assert ex.costs.borrow_bps_per_year == 0
    assert (ex.margin.requirement, ex.margin.short_requirement) == (Decimal(1), None)
    limits = ex.risk_limits
    assert limits.max_position_per_symbol is None
    assert limits.max_gross_exposure is None
    assert limits.max_order_notional is None
    assert limits.kill_switch_drawdown is None
    assert ex.faults.reject_probability == 0.0
    assert ex.faults.outages == ()
    assert ex.policy.mode is BatchExecutionMode.INDEPENDENT
    assert ex.policy.timeout is None
    assert bp.store is None
    assert bp.data.timeframe is None
    assert bp.data.warmup_bars == 0


def test_the_bundled_example_and_the_benchmark_blueprint_load() -> None:
    assert load_blueprint(EXAMPLE).name == "sma_cross_goog"
    assert load_blueprint(BENCH).name == "sma_cross_bench"


def test_the_full_example_in_the_docs_reads_as_documented() -> None:
    bp = parse_blueprint(docs_example(), "docs/blueprint.md")
    sym = bp.data.symbols[0]
    assert (sym.tick_size, sym.lot_size, sym.currency) == (Decimal("0.01"), Decimal(1), "USD")
    assert (bp.data.timeframe, bp.data.start, bp.data.end) == ("1d", "2010-01-01", "2019-12-31")
    assert bp.data.warmup_bars == 30
    assert [s.plugin for s in bp.workforce.entry_planner] == ["market_entry"]
    assert [s.confidence for s in bp.workforce.size_planner] == [(0.0, 0.7), (0.7, 1.0)]
    ex = bp.execution
    assert ex.venue.participation_cap == 0.1
    assert ex.costs.fee_minimum == Decimal(1)
    assert ex.costs.borrow_bps_per_year == Decimal(300)
    assert ex.margin.short_requirement == Decimal("1.5")
    assert ex.risk_limits.max_position_per_symbol == Decimal(150_000)
    assert ex.risk_limits.max_gross_exposure == Decimal("1.5")
    assert ex.risk_limits.max_order_notional == Decimal(100_000)
    assert ex.risk_limits.kill_switch_drawdown == 0.25
    assert ex.faults.cancel_failure_probability == 0.02
    (outage,) = ex.faults.outages
    assert outage.start == datetime(2015, 8, 24, 13, 30, tzinfo=UTC)
    assert outage.end == datetime(2015, 8, 24, 15, tzinfo=UTC)
    assert (ex.policy.mode, ex.policy.timeout) == (BatchExecutionMode.INDEPENDENT, "3 bars")
    assert bp.store is not None
    assert bp.store.path == "runs/sma_cross.sqlite"


def test_existing_execution_field_names_keep_working() -> None:
    bp = parse_blueprint(
        MINIMAL + "execution:\n"
        "  venue: {fill_on_close: true, latency: 2m}\n"
        "  costs: {fee_bps: 5, fee_per_unit: 0.01, fee_minimum: 1,\n"
        "          spread_bps: 2, slippage_bps: 3}\n"
        "  policy: {mode: COORDINATED, timeout: 2d, unwind_filled_legs: true}\n"
        "account: {starting_cash: 5000}\n"
    )
    ex = bp.execution
    assert (ex.venue.fill_on_close, ex.venue.latency) == (True, "2m")
    assert (ex.costs.fee_bps, ex.costs.fee_per_unit) == (Decimal(5), Decimal("0.01"))
    assert (ex.costs.fee_minimum, ex.costs.spread_bps, ex.costs.slippage_bps) == (1, 2, 3)
    assert (ex.policy.mode, ex.policy.timeout) == (BatchExecutionMode.COORDINATED, "2d")
    assert ex.policy.unwind_filled_legs is True
    assert bp.account.starting_cash == Decimal(5000)


def test_yaml_dates_and_zoned_times_become_iso_text_in_utc() -> None:
    bp = parse_blueprint(
        MINIMAL.replace(
            "workforce:", "  start: 2010-01-04\n  end: 2012-06-01T16:00:00+02:00\nworkforce:"
        )
    )
    assert bp.data.start == "2010-01-04"
    assert bp.data.end == "2012-06-01T14:00:00+00:00"


def test_a_bare_plugin_name_is_a_spec_and_store_may_be_a_path() -> None:
    bp = parse_blueprint(MINIMAL + "  exit_planner: [no_exit]\nstore: runs.sqlite\n")
    assert bp.workforce.exit_planner == (PluginSpec(plugin="no_exit"),)
    assert bp.store is not None
    assert bp.store.path == "runs.sqlite"


def test_null_params_mean_no_params() -> None:
    bp = parse_blueprint(MINIMAL + "  exit_planner:\n    - plugin: no_exit\n      params:\n")
    assert bp.workforce.exit_planner[0].params == {}


def test_source_map_gives_the_line_of_each_field(tmp_path: Path) -> None:
    path = tmp_path / "bp.yaml"
    path.write_text(
        MINIMAL + "  size_planner:\n    - plugin: equity_fraction\n      params: {fraction: 0.5}\n"
    )
    bp = load_blueprint(path)
    source = bp.source_map
    assert source is not None
    assert source.where("data.symbols.0") == f"{path}:4"
    assert source.where(("workforce", "size_planner", 0, "params", "fraction")) == f"{path}:9"
    # A path the file does not hold falls back to its deepest ancestor that it does.
    assert source.line("execution.costs.fee_bps") == 1
    assert source.line("workforce.size_planner.0.params.missing") == 9


def test_specs_read_from_the_file_know_their_source_and_defaults_do_not(tmp_path: Path) -> None:
    path = tmp_path / "bp.yaml"
    path.write_text(MINIMAL + "  size_planner: [equity_fraction]\n")
    bp = load_blueprint(path)
    assert bp.workforce.strategy_planner.source_map is bp.source_map
    assert bp.workforce.size_planner[0].source_map is bp.source_map
    assert bp.workforce.entry_planner[0].source_map is None
    assert Workforce.model_fields["entry_planner"].default[0].source_map is None


def test_a_loaded_blueprint_equals_the_same_blueprint_built_in_python() -> None:
    loaded = parse_blueprint(MINIMAL, "somewhere.yaml")
    built = Blueprint.model_validate(
        {
            "name": "t",
            "data": {"symbols": [{"symbol": "GOOG", "source": "GOOG_1d"}]},
            "workforce": {"strategy_planner": {"plugin": "signal_to_directive"}},
        }
    )
    assert loaded == built
    assert built.source_map is None


def test_a_dumped_blueprint_validates_back_to_itself() -> None:
    bp = parse_blueprint(docs_example())
    assert Blueprint.model_validate(bp.model_dump()) == bp


@pytest.mark.parametrize("latency", ["0s", "0 bars", 0])
def test_zero_latency_is_stored_as_zero(latency: str | int) -> None:
    bp = parse_blueprint(MINIMAL + f"execution:\n  venue: {{latency: {latency}}}\n")
    assert bp.execution.venue.latency == 0


def test_workforce_specs_lists_every_plugin_with_role_and_index() -> None:
    bp = parse_blueprint(docs_example())
    specs = [(role, index, spec.instance_name) for role, index, spec in bp.workforce.specs()]
    assert specs[:4] == [
        ("context_worker", 0, "fast"),
        ("context_worker", 1, "slow"),
        ("signal_detector", 0, "ma_crossover"),
        ("strategy_planner", None, "signal_to_directive"),
    ]
    assert ("size_planner", 1, "full") in specs
