"""validate_blueprint: plugins, params, confidence ranges and data sources, without any bars."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from simpletrader.backtest.engine import run_backtest
from simpletrader.config import load_blueprint, validate_blueprint
from simpletrader.config.blueprint import Blueprint
from simpletrader.core.errors import ConfigError

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "src" / "simpletrader" / "examples" / "sma_cross_goog.yaml"

HEAD = """\
name: t
data:
  symbols:
    - {symbol: GOOG, source: GOOG_1d}
workforce:
  strategy_planner: {plugin: signal_to_directive}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bp.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems(tmp_path: Path, text: str) -> tuple[str, list[str]]:
    """(path, one message per problem): problems are joined by "; " and start with the path."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        validate_blueprint(path)
    return str(path), re.split(f"; (?={re.escape(str(path))}:)", str(info.value))


def test_the_bundled_example_is_valid() -> None:
    blueprint = validate_blueprint(EXAMPLE)
    assert isinstance(blueprint, Blueprint)
    assert blueprint.name == "sma_cross_goog"


def test_an_unknown_plugin_lists_the_registered_ones_with_its_line(tmp_path: Path) -> None:
    path, found = problems(tmp_path, HEAD + "  signal_detector:\n    - plugin: ma_crosover\n")
    (message,) = found
    assert message.startswith(
        f"{path}:8: workforce.signal_detector.0.plugin: unknown signal_detector plugin "
        f"'ma_crosover' (did you mean 'ma_crossover'?); registered: "
    )
    assert "ma_crossover" in message.split("registered: ")[1]


def test_a_bad_plugin_param_names_its_path_and_line(tmp_path: Path) -> None:
    path, found = problems(
        tmp_path,
        HEAD + "  context_worker:\n"
        "    - plugin: sma\n"
        "      name: fast\n"
        "      params:\n"
        "        period: -3\n",
    )
    assert found == [
        f"{path}:11: workforce.context_worker.0.params.period: Input should be greater than or "
        f"equal to 1 (got -3)"
    ]


def test_an_unknown_plugin_param_suggests_the_nearest(tmp_path: Path) -> None:
    path, found = problems(
        tmp_path,
        HEAD + "  size_planner:\n    - plugin: equity_fraction\n      params: {fracton: 0.5}\n",
    )
    assert found[0].startswith(
        f"{path}:9: workforce.size_planner.0.params.fracton: unknown key; did you mean "
        f"'fraction'? valid keys: fraction"
    )


def test_a_missing_plugin_param_points_at_the_spec(tmp_path: Path) -> None:
    path, found = problems(tmp_path, HEAD + "  context_worker:\n    - plugin: sma\n")
    assert found == [f"{path}:8: workforce.context_worker.0.params.period: missing required field"]


def test_overlapping_confidence_ranges_name_both_plugins(tmp_path: Path) -> None:
    path, found = problems(
        tmp_path,
        HEAD + "  size_planner:\n"
        "    - {plugin: equity_fraction, name: half, confidence: [0, 0.6]}\n"
        "    - {plugin: equity_fraction, name: full, confidence: [0.5, 1]}\n",
    )
    assert found == [
        f"{path}:7: workforce.size_planner: confidence ranges overlap: half (#0) [0.0, 0.6) and "
        f"full (#1) [0.5, 1.0)"
    ]


def test_adjacent_confidence_ranges_do_not_overlap(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEAD + "  size_planner:\n"
        "    - {plugin: equity_fraction, name: half, confidence: [0, 0.5]}\n"
        "    - {plugin: equity_fraction, name: full, confidence: [0.5, 1]}\n",
    )
    assert [s.name for s in validate_blueprint(path).workforce.size_planner] == ["half", "full"]


def test_a_missing_data_file_is_reported_with_its_line(tmp_path: Path) -> None:
    path, found = problems(tmp_path, HEAD.replace("source: GOOG_1d", "source: prices/GOOG.csv"))
    (message,) = found
    assert message.startswith(
        f"{path}:4: data.symbols.0.source: data file not found: prices/GOOG.csv (relative paths "
        f"start at {tmp_path}); or use a bundled sample: "
    )


def test_a_data_file_next_to_the_blueprint_is_found(tmp_path: Path) -> None:
    (tmp_path / "prices").mkdir()
    (tmp_path / "prices" / "GOOG.csv").write_text("timestamp,open,high,low,close,volume\n")
    path = write(tmp_path, HEAD.replace("source: GOOG_1d", "source: prices/GOOG.csv"))
    assert validate_blueprint(path).data.symbols[0].source == "prices/GOOG.csv"


def test_data_files_are_not_checked_on_request(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD.replace("source: GOOG_1d", "source: later.csv"))
    assert validate_blueprint(path, check_data_files=False).name == "t"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    _, found = problems(
        tmp_path,
        HEAD.replace("source: GOOG_1d", "source: nowhere.csv")
        + "  context_worker:\n    - {plugin: sma, params: {period: 0}}\n"
        "  signal_detector:\n    - nope\n",
    )
    assert len(found) == 3
    assert "params.period" in found[0]
    assert "unknown signal_detector plugin 'nope'" in found[1]
    assert "data file not found: nowhere.csv" in found[2]


def test_schema_errors_come_first_and_alone(tmp_path: Path) -> None:
    path, found = problems(tmp_path, HEAD + "  signal_detector:\n    - nope\nseed: x\n")
    assert found == [
        f"{path}:9: seed: Input should be a valid integer, unable to parse string as an integer "
        f"(got 'x')"
    ]


def test_a_run_reports_a_bad_plugin_param_with_its_line_too(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEAD + "  size_planner:\n    - plugin: equity_fraction\n      params: {fraction: 2}\n",
    )
    with pytest.raises(ConfigError) as info:
        run_backtest(load_blueprint(path))
    assert str(info.value) == (
        f"{path}:9: workforce.size_planner.0.params.fraction: Input should be less than or equal "
        f"to 1 (got 2)"
    )
