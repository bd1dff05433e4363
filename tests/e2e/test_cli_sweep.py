"""`simpletrader sweep` as a user runs it, in a subprocess (on the local process pool)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).parents[2]
EXAMPLE = "src/simpletrader/examples/sma_cross_goog.yaml"
FAST = "workforce.context_worker.0.params.period"
SLOW = "workforce.context_worker.slow.params.period"


def sweep(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simpletrader", "sweep", EXAMPLE, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_sweep_prints_the_table_and_writes_every_run(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    result = sweep(
        "-p", f"{FAST}=5,10", "-p", f"{SLOW}=30:50:20", "--backend", "process", "--workers", "2",
        "--out", str(out), "--sort", "total_return",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "4 runs, best total_return first" in result.stdout
    assert "4 runs in" in result.stderr
    table = pd.read_csv(out)
    assert sorted(zip(table[FAST], table[SLOW], strict=True)) == [
        (5, 30), (5, 50), (10, 30), (10, 50),
    ]  # fmt: skip
    assert table["total_return"].is_monotonic_decreasing
    backtest = subprocess.run(
        [sys.executable, "-m", "simpletrader", "backtest", EXAMPLE, "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    default = table[(table[FAST] == 10) & (table[SLOW] == 30)]
    assert default["run_hash"].iloc[0] == json.loads(backtest.stdout)["run_hash"]


def test_unknown_path_exits_2_naming_the_valid_choices() -> None:
    result = sweep("-p", "workforce.signal.0.params.fast=1", "--workers", "1")
    assert result.returncode == 2
    assert "workforce has no field 'signal'" in result.stderr
    assert "valid: context_worker, signal_detector" in result.stderr
    assert result.stdout == ""


def test_invalid_value_exits_2_before_anything_runs() -> None:
    result = sweep("-p", f"{FAST}=5,0", "--workers", "1")
    assert result.returncode == 2
    assert "period=0" in result.stderr
    assert "greater than or equal to 1" in result.stderr


def test_failed_runs_are_listed_and_all_failing_exits_1() -> None:
    some = sweep("-p", "workforce.signal_detector.0.params.fast=fast,nope", "--workers", "1")
    assert some.returncode == 0, some.stderr
    assert "failed run 1" in some.stderr
    assert "unknown fact 'nope'" in some.stderr
    every = sweep("-p", "workforce.signal_detector.0.params.fast=nope", "--workers", "1")
    assert every.returncode == 1


def test_walk_forward_reports_windows_and_the_stitched_summary(tmp_path: Path) -> None:
    out = tmp_path / "wf.parquet"
    result = sweep(
        "-p", f"{FAST}=5,10,20", "--walk-forward", "500:250", "--workers", "1", "--out", str(out)
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "walk-forward 500:250" in result.stdout
    assert "stitched out-of-sample" in result.stdout
    assert len(pd.read_parquet(out)) == 7
    assert len(pd.read_parquet(tmp_path / "wf.train.parquet")) == 21


def test_symbols_run_the_grid_per_symbol(tmp_path: Path) -> None:
    out = tmp_path / "symbols.csv"
    result = sweep("--symbols", "GOOG,SPX_1d", "--workers", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(pd.read_csv(out)["symbol"]) == ["GOOG", "SPX"]


def test_ctrl_c_stops_and_keeps_the_finished_rows(tmp_path: Path) -> None:
    out = tmp_path / "partial.csv"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "simpletrader", "sweep", EXAMPLE, "-p", f"{FAST}=2:400",
            "--backend", "process", "--workers", "2", "--out", str(out),
        ],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        # Wait for a few finished rows (header + 3 lines), then press Ctrl-C.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if out.exists() and len(out.read_text().splitlines()) >= 4:
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "interrupted:" in stderr
    assert "of 399 runs finished" in stderr
    finished = pd.read_csv(out)
    assert 3 <= len(finished) < 399
    assert finished["run_hash"].notna().all()
    assert "finished runs" in stdout
