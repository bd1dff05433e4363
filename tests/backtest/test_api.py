"""``simpletrader.backtest(...)``: every form of blueprint, every override, every error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from simpletrader.backtest.api import DEFAULT_BLUEPRINT, backtest
from simpletrader.backtest.result import Result
from simpletrader.config.loader import load_blueprint
from simpletrader.core.errors import ConfigError, DataError, SimpleTraderError


@pytest.fixture(scope="module")
def default() -> Result:
    return backtest()


@pytest.mark.parametrize(
    "form",
    ["path-str", "path", "yaml-text", "dict", "blueprint"],
)
def test_every_blueprint_form_gives_the_same_run(default: Result, form: str) -> None:
    text = DEFAULT_BLUEPRINT.read_text()
    given: object = {
        "path-str": str(DEFAULT_BLUEPRINT),
        "path": DEFAULT_BLUEPRINT,
        "yaml-text": text,
        "dict": yaml.safe_load(text),
        "blueprint": load_blueprint(DEFAULT_BLUEPRINT),
    }[form]
    assert backtest(given).run_hash == default.run_hash  # type: ignore[arg-type]


def test_the_package_is_callable_before_and_after_its_submodules_load(default: Result) -> None:
    import simpletrader.backtest.engine

    assert simpletrader.backtest().run_hash == default.run_hash
    from simpletrader import backtest as via_import

    assert via_import().run_hash == default.run_hash


def test_importing_simpletrader_loads_no_heavy_module() -> None:
    code = (
        "import sys, simpletrader; "
        "print(sorted(m for m in ('numpy', 'pandas', 'pydantic') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_a_seed_changes_ids_but_not_the_trades(default: Result) -> None:
    other = backtest(seed=7)
    assert other.seed == 7
    assert other.run_hash != default.run_hash
    assert other.final_equity == default.final_equity


def test_start_and_end_bound_the_bars_both_inclusive() -> None:
    result = backtest(start="2010-01-01", end="2011-01-01")
    assert result.start.isoformat() == "2010-01-04T00:00:00+00:00"
    assert result.end.year == 2010
    assert result.n_bars == 252


def test_cash_scales_the_account(default: Result) -> None:
    result = backtest(cash=1_000_000)
    assert result.starting_cash == 1_000_000
    assert result.final_equity > 5 * default.final_equity


def test_data_replaces_the_blueprint_source() -> None:
    result = backtest(data="SPX_1d")
    assert result.manifest["data"]["GOOG"]["source"] == "SPX_1d"
    assert result.n_bars == 5031


def test_dotted_fields_override_the_blueprint(default: Result) -> None:
    slower = backtest(**{"workforce.context_worker.fast.params.period": 20})
    assert slower.metrics["trades"] != default.metrics["trades"]
    assert slower.run.blueprint.workforce.context_worker[0].params["period"] == 20
    with_fees = backtest(execution__costs__fee_bps=5)
    assert with_fees.metrics["fees"] > 0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: backtest("missing.yaml"), ConfigError, "blueprint file not found: missing.yaml"),
        (lambda: backtest("name: x\n  bad: [\n"), ConfigError, "invalid YAML"),
        (lambda: backtest({"name": "x"}), ConfigError, "data"),
        (lambda: backtest(data="nope.csv"), DataError, "data file not found: nope.csv"),
        (lambda: backtest(data=["GOOG_1d", "SPX_1d"]), ConfigError, "give one per symbol"),
        (lambda: backtest(start="someday"), ConfigError, "someday"),
        (lambda: backtest(execution__costs__fee=5), ConfigError, "fee_bps"),
        (lambda: backtest(cash=-5), ConfigError, "starting_cash"),
    ],
)
def test_errors_name_what_is_wrong(call: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=None) as caught:
        call()  # type: ignore[operator]
    assert isinstance(caught.value, SimpleTraderError)
    assert message in str(caught.value)


def test_relative_data_paths_resolve_against_the_blueprint_folder(tmp_path: Path) -> None:
    import gzip

    from simpletrader.data.samples import sample_path

    (tmp_path / "goog.csv").write_bytes(gzip.decompress(sample_path("GOOG_1d").read_bytes()))
    text = DEFAULT_BLUEPRINT.read_text().replace("source: GOOG_1d", "source: goog.csv")
    (tmp_path / "bp.yaml").write_text(text)
    result = backtest(tmp_path / "bp.yaml")
    assert result.n_bars == 2148
    assert result.manifest["data"]["GOOG"]["source"] == str(tmp_path / "goog.csv")
    loaded = backtest(load_blueprint(tmp_path / "bp.yaml"))
    assert loaded.run_hash == result.run_hash


def test_progress_is_called_about_a_hundred_times_and_ends_complete() -> None:
    calls: list[tuple[int, int]] = []
    backtest(progress=lambda done, total: calls.append((done, total)))
    assert 50 <= len(calls) <= 110
    assert calls[-1] == (2148, 2148)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_a_run_keeping_only_the_journal_hash_is_the_same_run(default: Result) -> None:
    from simpletrader.core.errors import JournalError

    light = backtest(keep_journal=False)
    assert light.run_hash == default.run_hash
    assert light.summary()["final_equity"] == default.summary()["final_equity"]
    assert light.trades.equals(default.trades)
    assert next(default.run.journal.records())["seq"] == 1
    with pytest.raises(JournalError, match="keep_journal=True"):
        next(light.run.journal.records())
