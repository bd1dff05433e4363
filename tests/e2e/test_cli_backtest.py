"""`simpletrader backtest` as a user runs it, in subprocesses (started together to keep it fast)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from simpletrader.cli import app
from simpletrader.cli.backtest import BarsPerSecond, ProgressBar
from simpletrader.data.samples import sample_path

ROOT = Path(__file__).parents[2]


def launch(*args: str, hash_seed: str = "0", cwd: Path = ROOT) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "COLUMNS": "120"}
    return subprocess.Popen(
        [sys.executable, "-m", "simpletrader", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finish(proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    stdout, stderr = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    (folder / "goog.csv").write_bytes(gzip.decompress(sample_path("GOOG_1d").read_bytes()))
    (folder / "bad.csv").write_text(
        "timestamp,open,high,low,close,volume\n2020-01-01,1,2,0.5,1.5,10\n"
        "2020-01-02,1,2,0.5,abc,10\n2020-01-03,1,2,0.5,1.5,10\n"
    )
    (folder / "invalid.yaml").write_text(
        "name: bad\ndata:\n  symbols:\n    - symbol: GOOG\n      source: GOOG_1d\n"
        "workforce:\n  strategy_planner:\n    plugin: signal_to_directive\n"
        "account:\n  starting_cash: -5\n"
    )
    (folder / "unknown_plugin.yaml").write_text(
        "name: bad\ndata:\n  symbols:\n    - symbol: GOOG\n      source: GOOG_1d\n"
        "workforce:\n  strategy_planner:\n    plugin: nope\n"
    )
    (folder / "a_folder").mkdir()
    return folder


@pytest.fixture(scope="module")
def runs(workdir: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every CLI run of this module, started at once and collected by name."""
    report, plot = workdir / "report.html", workdir / "equity.png"
    quiet_plot = workdir / "quiet.png"
    procs = {
        "json": launch("backtest", "--json", "--report", str(report), "--plot", str(plot)),
        "other-hash-seed": launch(
            "backtest",
            "examples/sma_cross_goog.yaml",
            "--data",
            str(workdir / "goog.csv"),
            "--json",
            hash_seed="12345",
        ),
        "table": launch("backtest"),
        "quiet": launch("backtest", "--quiet", "--plot", str(quiet_plot)),
        "seed-and-period": launch(
            "backtest", "--seed", "7", "--start", "2010-01-01", "--end", "2011-01-01", "--json"
        ),
        "missing-blueprint": launch("backtest", "missing.yaml"),
        "debug": launch("backtest", "missing.yaml", "--debug"),
    }
    return {name: finish(proc) for name, proc in procs.items()}


def _json(run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert run.returncode == 0, run.stderr
    value: dict[str, Any] = json.loads(run.stdout)
    return value


def test_json_summary_has_the_documented_schema(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    summary = _json(runs["json"])
    assert summary["bars"] == 2148
    assert summary["trades"] > 10
    assert isinstance(summary["trades"], int)
    assert summary["final_equity"] > 0
    assert len(summary["run_hash"]) == 32
    assert isinstance(summary["engine_seconds"], float)
    assert summary["engine_seconds"] > 0
    assert summary["start"] == "2004-08-19T00:00:00+00:00"
    assert summary["end"] == "2013-03-01T00:00:00+00:00"
    assert summary["orders"] == summary["fills"] == 2 * summary["trades"] + 1
    for key in (
        "total_return",
        "cagr",
        "volatility",
        "sharpe",
        "sortino",
        "max_drawdown",
        "max_drawdown_duration_days",
        "calmar",
        "win_rate",
        "profit_factor",
        "avg_trade_pnl",
        "avg_mae",
        "avg_mfe",
        "avg_holding_days",
        "exposure",
        "fees",
        "buy_and_hold_return",
        "periods_per_year",
    ):
        assert key in summary["metrics"], key
    assert 250 < summary["metrics"]["periods_per_year"] < 254
    assert summary["metrics"]["trades"] == summary["trades"]
    [position] = summary["open_positions"]
    assert position["symbol"] == "GOOG"
    assert position["direction"] == "LONG"
    assert set(summary["batches"]) == {"INDEPENDENT", "COORDINATED", "SEQUENTIAL"}
    for counts in summary["batches"].values():
        assert set(counts) == {"completed", "partial", "failed", "open"}
    assert summary["batches"]["INDEPENDENT"]["completed"] == summary["orders"]
    manifest = summary["manifest"]
    assert manifest["seed"] == 42
    assert manifest["simpletrader"]
    assert len(manifest["blueprint_sha256"]) == 64
    assert len(manifest["data"]["GOOG"]["sha256"]) == 64


def test_report_and_plot_are_written_and_stdout_stays_pure_json(
    runs: dict[str, subprocess.CompletedProcess[str]], workdir: Path
) -> None:
    _json(runs["json"])
    assert (workdir / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert (workdir / "equity.png").read_bytes()[:4] == b"\x89PNG"


def test_run_hash_is_identical_across_processes_hash_seeds_and_data_paths(
    runs: dict[str, subprocess.CompletedProcess[str]], workdir: Path
) -> None:
    default = _json(runs["json"])
    other = _json(runs["other-hash-seed"])
    assert other["run_hash"] == default["run_hash"]
    assert other["final_equity"] == default["final_equity"]
    assert other["manifest"]["data"]["GOOG"]["source"] == str(workdir / "goog.csv")


def test_seed_and_period_options_change_the_run(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    default = _json(runs["json"])
    seeded = _json(runs["seed-and-period"])
    assert seeded["run_hash"] != default["run_hash"]
    assert seeded["manifest"]["seed"] == 7
    assert seeded["bars"] == 252
    assert seeded["start"].startswith("2010-01-04")


def test_table_shows_every_headline_figure(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    run = runs["table"]
    assert run.returncode == 0, run.stderr
    for label in (
        "Total return",
        "CAGR",
        "Volatility",
        "Sharpe ratio",
        "Sortino ratio",
        "Max drawdown",
        "Max drawdown duration",
        "Calmar ratio",
        "Closed trades",
        "Win rate",
        "Profit factor",
        "Average trade",
        "Average MAE / MFE",
        "Average holding time",
        "Exposure",
        "Fees",
        "Buy & hold return",
        "Batch outcomes",
        "INDEPENDENT",
        "COORDINATED",
        "SEQUENTIAL",
        "Open at the end (marked to the last close)",
    ):
        assert label in run.stdout, label


def test_quiet_prints_nothing_but_still_writes_files(
    runs: dict[str, subprocess.CompletedProcess[str]], workdir: Path
) -> None:
    run = runs["quiet"]
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert run.stderr == ""
    assert (workdir / "quiet.png").exists()


def test_an_error_prints_one_line_and_exits_2(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    run = runs["missing-blueprint"]
    assert run.returncode == 2
    assert run.stderr == "error: blueprint file not found: missing.yaml\n"
    assert run.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--data", "nope.csv"), "data file not found: nope.csv"),
        (("{dir}/invalid.yaml",), "invalid.yaml:10: account.starting_cash: "),
        (("{dir}/unknown_plugin.yaml",), "unknown strategy_planner plugin 'nope'"),
        (("--data", "{dir}/bad.csv"), "bad.csv: line 3, column 'close': value 'abc' is not a"),
        (("--start", "someday"), "data.start: 'someday' is not an ISO date"),
        (("--data", "GOOG_1d", "--data", "SPX_1d"), "give one per symbol"),
        (("--report", "{dir}/a_folder"), "IsADirectoryError"),
        (("--plot", "{dir}/a_folder"), "a_folder"),
    ],
)
def test_every_error_path_prints_one_line_and_exits_2(
    workdir: Path, args: tuple[str, ...], message: str
) -> None:
    # In process (the same Typer app, argv to exit code), so the matrix stays fast.
    result = CliRunner().invoke(app, ["backtest", *(a.format(dir=workdir) for a in args)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_debug_shows_the_traceback(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    run = runs["debug"]
    assert run.returncode == 2
    assert "Traceback" in run.stderr
    assert "blueprint file not found: missing.yaml" in run.stderr


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_bar_appears_after_a_second_and_shows_bars_per_second() -> None:
    clock = _Clock()
    console = Console(file=open(os.devnull, "w"), force_terminal=True, width=100)  # noqa: SIM115
    bar = ProgressBar(console, delay=1.0, clock=clock)
    clock.now = 0.5
    bar(500, 10_000)
    assert bar.progress is None  # a short run shows nothing
    clock.now = 1.5
    bar(1_500, 10_000)
    clock.now = 2.5
    bar(2_500, 10_000)
    clock.now = 3.5
    bar(3_500, 10_000)
    assert bar.progress is not None
    task = bar.progress.tasks[0]
    assert task.completed == 3_500
    assert task.speed == pytest.approx(1_000)
    assert str(BarsPerSecond().render(task)) == "1,000 bars/s"
    bar.close()
    assert bar.progress is None
    console.file.close()


def test_a_run_that_ends_within_the_delay_never_shows_a_bar() -> None:
    clock = _Clock()
    bar = ProgressBar(Console(file=open(os.devnull, "w")), clock=clock)  # noqa: SIM115
    bar(1_000, 2_000)
    clock.now = 5.0
    bar(2_000, 2_000)  # finished: nothing left to show
    assert bar.progress is None
