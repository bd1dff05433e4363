"""Whole-process benchmark: simpletrader vs backtesting.py on the same synthetic CSV.

Each engine runs in its own subprocess, timed from spawn to exit (interpreter start, imports,
reading the CSV, the run, the summary); peak RSS is that process's own ``ru_maxrss``. Both are
taken by ``measure_process.py``. See ``benchmarks/README.md``.

    python benchmarks/bench_backtest.py --bars 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
CACHE_DIR = BENCH_DIR / ".cache"
BLUEPRINT = BENCH_DIR / "sma_cross_bench.yaml"
BT_REFERENCE = BENCH_DIR / "bt_reference.py"
MEASURE_PROCESS = BENCH_DIR / "measure_process.py"

ENGINES = ("simpletrader", "simpletrader-store", "backtesting")
ENGINE_SETS = {"all": ENGINES, "both": ("simpletrader", "backtesting")}
DEFAULT_BARS = (100_000, 1_000_000)
SEED = 42
START = np.datetime64("2020-01-01T00:00:00", "s")
# Bump when the generator changes so stale cached CSVs are not reused.
DATA_VERSION = 1
EQUITY_TOLERANCE = 0.01
WALL_RATIO_BUDGET = 0.5  # DESIGN.md §10
STORE_RATIO_BUDGET = 1.5  # a store-backed run against the in-memory one
MEMORY_GROWTH_BUDGET = 1.5  # peak at 10x the bars <= this x the smaller peak + the input arrays
INPUT_BYTES_PER_BAR = 8 * 6  # int64 timestamp + float64 open, high, low, close, volume
SIMPLETRADER_KEYS = ("run_hash", "bars", "trades", "final_equity")
BACKTESTING_KEYS = ("bars", "trades", "final_equity")


def synthetic_bars(n: int, seed: int = SEED) -> pd.DataFrame:
    """Deterministic 1-minute random walk: ``n`` OHLCV bars from 2020-01-01T00:00:00Z.

    Close-to-close log returns ~ N(0, 5e-4); open = previous close * exp(N(0, 1e-4)) (the first
    open is 100); high/low = max/min(open, close) * exp(+/-|N(0, 2e-4)|); prices rounded to
    4 decimals with high >= max(open, close) and low <= min(open, close) kept after rounding.
    """
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0, 5e-4, n)
    gaps = rng.normal(0.0, 1e-4, n)
    gaps[0] = 0.0
    wick_up = np.abs(rng.normal(0.0, 2e-4, n))
    wick_down = np.abs(rng.normal(0.0, 2e-4, n))
    volume = rng.integers(100, 10_000, n, endpoint=True)

    # The close moves from the previous close, so the gap returns do not accumulate.
    close_raw = 100.0 * np.exp(np.cumsum(returns))
    prev_close = np.concatenate(([100.0], close_raw[:-1]))
    open_raw = prev_close * np.exp(gaps)
    high_raw = np.maximum(open_raw, close_raw) * np.exp(wick_up)
    low_raw = np.minimum(open_raw, close_raw) * np.exp(-wick_down)

    open_ = np.round(open_raw, 4)
    close = np.round(close_raw, 4)
    high = np.maximum(np.round(high_raw, 4), np.maximum(open_, close))
    low = np.minimum(np.round(low_raw, 4), np.minimum(open_, close))
    timestamps = START + np.arange(n, dtype="timedelta64[m]")
    return pd.DataFrame(
        {
            "timestamp": timestamps,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume,
        }
    )


def ensure_csv(n: int, cache_dir: Path = CACHE_DIR) -> Path:
    """Return the cached CSV of ``n`` bars, writing it first if absent."""
    path = cache_dir / f"random_walk_v{DATA_VERSION}_seed{SEED}_{n}.csv"
    if path.exists():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so an interrupted write is never reused.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    synthetic_bars(n).to_csv(
        tmp, index=False, float_format="%.4f", date_format="%Y-%m-%dT%H:%M:%SZ"
    )
    tmp.replace(path)
    return path


@dataclass(slots=True)
class Measurement:
    """One engine run, as measured by ``measure_process.py``."""

    exit_code: int | None
    wall_seconds: float | None
    peak_rss_bytes: int | None
    stdout: str
    stderr: str
    timed_out: bool


def measure(cmd: Sequence[str], timeout: float, env: dict[str, str]) -> Measurement:
    """Run ``cmd`` under ``measure_process.py`` (see there why) and collect its figures."""
    with tempfile.TemporaryDirectory(prefix="simpletrader-bench-") as tmp:
        out_path, err_path, report_path = (Path(tmp) / n for n in ("out", "err", "report"))
        with out_path.open("wb") as out, err_path.open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, str(MEASURE_PROCESS), str(report_path), *cmd],
                stdout=out,
                stderr=err,
                env=env,
                cwd=REPO_ROOT,
                start_new_session=True,  # so a timeout kills the engine with its wrapper
            )
            timed_out = False
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                if os.name == "posix":
                    os.killpg(proc.pid, signal.SIGKILL)
                else:
                    proc.kill()
                proc.wait()
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        return Measurement(
            exit_code=report.get("exit_code"),
            wall_seconds=report.get("wall_seconds"),
            peak_rss_bytes=report.get("peak_rss_bytes"),
            stdout=out_path.read_text(errors="replace"),
            stderr=err_path.read_text(errors="replace"),
            timed_out=timed_out,
        )


def engine_command(engine: str, csv_path: Path, store: Path | None = None) -> list[str]:
    """The command that runs ``engine``; ``simpletrader-store`` records into ``store``."""
    if engine.startswith("simpletrader"):
        command = [
            sys.executable,
            "-m",
            "simpletrader",
            "backtest",
            str(BLUEPRINT),
            "--data",
            str(csv_path),
            "--json",
            "--quiet",
        ]
        if engine == "simpletrader-store":
            assert store is not None
            command += ["--store", str(store)]
        return command
    return [sys.executable, str(BT_REFERENCE), str(csv_path)]


def child_env() -> dict[str, str]:
    """The current environment, with this checkout's ``src`` importable without installing."""
    env = dict(os.environ)
    src = str(REPO_ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def parse_summary(stdout: str) -> dict[str, Any]:
    """The JSON object on stdout (the whole of it, or else its last JSON-object line)."""
    text = stdout.strip()
    candidates = [text, *reversed(text.splitlines())]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise ValueError(f"stdout holds no JSON object: {_tail(stdout)!r}")


def _tail(text: str, lines: int = 5) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


@dataclass(slots=True)
class EngineResult:
    """The fastest of the runs of one engine on one CSV (or why it failed)."""

    engine: str
    bars: int
    ok: bool = False
    error: str | None = None
    wall_seconds: float | None = None
    bars_per_second: float | None = None
    peak_rss_mib: float | None = None
    trades: int | None = None
    final_equity: float | None = None
    engine_seconds: float | None = None
    run_hash: str | None = None
    reported_bars: int | None = None
    wall_seconds_all: list[float] = field(default_factory=list)
    deterministic: bool = True


def run_once(engine: str, csv_path: Path, bars: int, timeout: float) -> EngineResult:
    result = EngineResult(engine=engine, bars=bars)
    if engine.startswith("simpletrader") and not BLUEPRINT.exists():
        result.error = f"blueprint not found: {BLUEPRINT.relative_to(REPO_ROOT)}"
        return result
    with tempfile.TemporaryDirectory(prefix="simpletrader-bench-store-") as tmp:
        store = Path(tmp) / "runs.db"  # a fresh store per run, gone with its directory
        m = measure(engine_command(engine, csv_path, store), timeout, child_env())
    if m.timed_out:
        result.error = f"timed out after {timeout:.0f} s"
        return result
    if m.exit_code is None or m.wall_seconds is None or m.peak_rss_bytes is None:
        result.error = f"measure_process.py failed: {_tail(m.stderr)}"
        return result
    result.wall_seconds = m.wall_seconds
    result.wall_seconds_all = [m.wall_seconds]
    result.peak_rss_mib = m.peak_rss_bytes / 2**20
    if m.exit_code != 0:
        result.error = f"exit code {m.exit_code}: {_tail(m.stderr) or _tail(m.stdout)}"
        return result
    try:
        summary = parse_summary(m.stdout)
    except ValueError as exc:
        result.error = str(exc)
        return result
    required = SIMPLETRADER_KEYS if engine.startswith("simpletrader") else BACKTESTING_KEYS
    missing = [key for key in required if key not in summary]
    if missing:
        result.error = f"summary lacks {', '.join(missing)}: {summary!r}"
        return result
    result.ok = True
    result.bars_per_second = bars / m.wall_seconds
    result.trades = int(summary["trades"])
    result.final_equity = float(summary["final_equity"])
    result.reported_bars = int(summary["bars"])
    if summary.get("engine_seconds") is not None:
        result.engine_seconds = float(summary["engine_seconds"])
    if summary.get("run_hash") is not None:
        result.run_hash = str(summary["run_hash"])
    return result


def best_of(runs: list[EngineResult]) -> EngineResult:
    """The fastest successful run, with all wall times and a cross-run determinism check."""
    good = [r for r in runs if r.ok]
    if not good:
        return runs[-1]
    best = min(good, key=lambda r: r.wall_seconds or math.inf)
    best.wall_seconds_all = [r.wall_seconds for r in runs if r.wall_seconds is not None]
    outcomes = {(r.trades, r.final_equity, r.run_hash) for r in good}
    best.deterministic = len(outcomes) == 1
    return best


@dataclass(slots=True)
class Comparison:
    bars: int
    csv: str
    engines: dict[str, EngineResult]
    wall_ratio: float | None = None
    store_ratio: float | None = None
    trades_agree: bool | None = None
    equity_agree: bool | None = None


def compare(bars: int, csv_path: Path, engines: dict[str, EngineResult]) -> Comparison:
    comparison = Comparison(bars=bars, csv=str(csv_path), engines=engines)
    st, bt = engines.get("simpletrader"), engines.get("backtesting")
    if st and bt and st.ok and bt.ok:
        # An ok result has every figure set; the asserts narrow the types.
        assert st.wall_seconds is not None
        assert bt.wall_seconds is not None
        assert st.final_equity is not None
        assert bt.final_equity is not None
        comparison.wall_ratio = st.wall_seconds / bt.wall_seconds
        comparison.trades_agree = st.trades == bt.trades
        # The slack absorbs float noise in the difference of two ~1e5 values.
        difference = abs(st.final_equity - bt.final_equity)
        comparison.equity_agree = difference <= EQUITY_TOLERANCE + 1e-9
    stored = engines.get("simpletrader-store")
    if st and stored and st.ok and stored.ok:
        assert st.wall_seconds is not None
        assert stored.wall_seconds is not None
        comparison.store_ratio = stored.wall_seconds / st.wall_seconds
    return comparison


@dataclass(slots=True)
class Target:
    """One of issue 11's targets, as measured."""

    name: str
    measured: float
    budget: float
    detail: str

    @property
    def met(self) -> bool:
        return self.measured <= self.budget


def targets(comparisons: Sequence[Comparison]) -> list[Target]:
    """Speed and store ratios at the largest bar count; memory growth from each count to the
    one ten times larger (when both ran)."""
    out: list[Target] = []
    if not comparisons:
        return out
    largest = max(comparisons, key=lambda c: c.bars)
    if largest.wall_ratio is not None:
        out.append(
            Target(
                "speed",
                largest.wall_ratio,
                WALL_RATIO_BUDGET,
                f"simpletrader / backtesting.py wall time at {largest.bars:,} bars",
            )
        )
    if largest.store_ratio is not None:
        out.append(
            Target(
                "store",
                largest.store_ratio,
                STORE_RATIO_BUDGET,
                f"store-backed / in-memory wall time at {largest.bars:,} bars",
            )
        )
    by_bars = {c.bars: c for c in comparisons}
    for small in comparisons:
        big = by_bars.get(small.bars * 10)
        s, b = small.engines.get("simpletrader"), big and big.engines.get("simpletrader")
        if not (s and b and s.ok and b.ok):
            continue
        assert s.peak_rss_mib is not None
        assert b.peak_rss_mib is not None
        arrays = b.bars * INPUT_BYTES_PER_BAR / 2**20
        budget = MEMORY_GROWTH_BUDGET * s.peak_rss_mib + arrays
        out.append(
            Target(
                "memory",
                b.peak_rss_mib,
                budget,
                f"peak RSS MiB at {b.bars:,} bars vs {MEMORY_GROWTH_BUDGET} x "
                f"{s.peak_rss_mib:.1f} (at {s.bars:,}) + {arrays:.1f} of input arrays",
            )
        )
    return out


def print_targets(found: Sequence[Target]) -> None:
    if not found:
        return
    print("\n== targets")
    for t in found:
        verdict = "met" if t.met else "MISSED"
        print(f"{t.name:<7} {t.measured:9.3f} <= {t.budget:9.3f}  {verdict:<7} {t.detail}")


def _fmt(value: float | int | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_comparison(c: Comparison) -> None:
    print(f"\n== {c.bars:,} bars  ({c.csv})")
    header = (
        f"{'engine':<18} {'wall s':>9} {'bars/s':>11} {'peak RSS MiB':>13} "
        f"{'trades':>7} {'final equity':>15} {'engine s':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in c.engines.values():
        if not r.ok:
            print(f"{r.engine:<18} FAILED: {r.error}")
            continue
        print(
            f"{r.engine:<18} {_fmt(r.wall_seconds, '.3f'):>9} "
            f"{_fmt(r.bars_per_second, ',.0f'):>11} {_fmt(r.peak_rss_mib, '.1f'):>13} "
            f"{_fmt(r.trades, 'd'):>7} {_fmt(r.final_equity, ',.2f'):>15} "
            f"{_fmt(r.engine_seconds, '.3f'):>9}"
        )
    for r in c.engines.values():
        if len(r.wall_seconds_all) > 1:
            walls = ", ".join(f"{w:.3f}" for w in r.wall_seconds_all)
            print(f"  {r.engine} runs (s): {walls}")
        if r.ok and not r.deterministic:
            print(f"  WARNING: {r.engine} results differ between runs")
        if r.ok and r.reported_bars != r.bars:
            print(f"  WARNING: {r.engine} reports {r.reported_bars} bars, the CSV has {r.bars}")
        if r.run_hash:
            print(f"  {r.engine} run_hash: {r.run_hash}")
    if c.store_ratio is not None:
        print(f"wall ratio store-backed/in-memory simpletrader: {c.store_ratio:.3f}")
    if c.wall_ratio is not None:
        verdict = "within" if c.wall_ratio < WALL_RATIO_BUDGET else "OVER"
        print(
            f"wall ratio simpletrader/backtesting.py: {c.wall_ratio:.3f} "
            f"({verdict} budget < {WALL_RATIO_BUDGET})"
        )
        print(
            f"trades agree: {'yes' if c.trades_agree else 'NO'}; "
            f"final equity agrees to 1 cent: {'yes' if c.equity_agree else 'NO'}"
        )


def environment() -> dict[str, Any]:
    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "simpletrader": version("simpletrader"),
        "backtesting": version("backtesting"),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bars",
        type=int,
        nargs="+",
        default=list(DEFAULT_BARS),
        help="bar counts to run (default: %(default)s)",
    )
    parser.add_argument(
        "--engine",
        choices=[*ENGINES, *ENGINE_SETS],
        default="all",
        help="all (default), both (simpletrader and backtesting) or one engine",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per engine; best is kept")
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds per run (default: %(default)s)"
    )
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    parser.add_argument("--json", action="store_true", help="print one JSON document only")
    args = parser.parse_args(argv)
    if args.repeat < 1 or any(n < 2 for n in args.bars):
        parser.error("--repeat must be >= 1 and every --bars value >= 2")
    return args


def compile_packages(engines: Sequence[str]) -> None:
    """Write each engine's bytecode first, as a regular ``pip install`` does.

    An editable install under ``PYTHONDONTWRITEBYTECODE`` (set on some machines) would otherwise
    recompile simpletrader's modules in every measured process, while backtesting.py, installed
    normally, starts from its bytecode.
    """
    import compileall
    import importlib.util

    for name in engines:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            for folder in spec.submodule_search_locations:
                compileall.compile_dir(folder, quiet=1)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    engines = ENGINE_SETS.get(args.engine, (args.engine,))
    compile_packages(sorted({e.split("-")[0] for e in engines}))
    env_info = environment()
    if not args.json:
        print(", ".join(f"{k} {v}" for k, v in env_info.items()))
    comparisons: list[Comparison] = []
    for bars in args.bars:
        csv_path = ensure_csv(bars, args.cache_dir)
        runs: dict[str, list[EngineResult]] = {e: [] for e in engines}
        # Interleave the engines so drift in machine load hits both alike.
        for _ in range(args.repeat):
            for engine in engines:
                if runs[engine] and not runs[engine][-1].ok:
                    continue  # a failure will not fix itself on the next try
                runs[engine].append(run_once(engine, csv_path, bars, args.timeout))
        comparison = compare(bars, csv_path, {e: best_of(r) for e, r in runs.items()})
        comparisons.append(comparison)
        if not args.json:
            print_comparison(comparison)
    found = targets(comparisons)
    if not args.json:
        print_targets(found)
    if args.json:
        document = {
            "environment": env_info,
            "repeat": args.repeat,
            "targets": [{**asdict(t), "met": t.met} for t in found],
            "results": [
                {**asdict(c), "engines": {e: asdict(r) for e, r in c.engines.items()}}
                for c in comparisons
            ],
        }
        print(json.dumps(document, indent=2))
    failed = any(not r.ok for c in comparisons for r in c.engines.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
