"""Sweep benchmark: speedup from 1 to 2 workers and per-task overhead, Ray vs the process pool.

The workload is a 16-run grid (fast SMA 8..11 x slow SMA 28..34) of the benchmark blueprint
(``sma_cross_bench.yaml``) on the 100,000-bar random walk of ``bench_backtest.py``. Each
configuration runs the same 16 backtests; every run's ``run_hash`` must agree across them.

- ``wall s``: ``run_sweep`` from call to table (Ray's start-up is measured apart, as ``ray
  init s``; a sweep joins an already started Ray).
- ``task s``: the sum of the tasks' own run times (measured inside each task).
- ``speedup``: this configuration's 1-worker wall time / its wall time.
- ``overhead/task ms``: (wall x workers - task s) / runs: what a run costs beyond the backtest
  itself (shipping, scheduling, collecting, idle workers at the end).

``--short`` adds the same measurement on 64 short GOOG_1d runs (~30 ms each), where the
per-task overhead dominates. Other work on the cores caps any 2-worker figure, so the load
average and a control are printed before and after: ``machine parallelism`` is how much faster
two processes finish a pure-Python loop each than one process runs both (2.0 on two free cores).
A sweep's speedup can only be read against it.

    python benchmarks/bench_sweep.py --short
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_backtest import CACHE_DIR, ensure_csv  # noqa: E402
from simpletrader.sweep import run_sweep  # noqa: E402

BLUEPRINT = BENCH_DIR / "sma_cross_bench.yaml"
EXAMPLE = BENCH_DIR.parent / "src" / "simpletrader" / "examples" / "sma_cross_goog.yaml"
FAST = "workforce.context_worker.0.params.period"
SLOW = "workforce.context_worker.1.params.period"
LONG_GRID = {FAST: [8, 9, 10, 11], SLOW: [28, 30, 32, 34]}
SHORT_GRID = {FAST: list(range(4, 20)), SLOW: [30, 35, 40, 45]}
CONFIGS: tuple[tuple[str, int], ...] = (("process", 1), ("process", 2), ("ray", 1), ("ray", 2))


@dataclass
class Figures:
    workload: str
    backend: str
    workers: int
    runs: int
    wall_s: float
    task_s: float
    ray_init_s: float | None
    speedup: float | None = None
    overhead_ms: float | None = None


def _measure(
    workload: str,
    blueprint: Path,
    grid: dict[str, list[int]],
    data: Sequence[str],
    backend: str,
    workers: int,
) -> tuple[Figures, dict[int, str]]:
    ray_init = None
    if backend == "ray":
        import ray

        started = time.perf_counter()
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        ray_init = time.perf_counter() - started
    try:
        started = time.perf_counter()
        frame = run_sweep(blueprint, grid, data=data, backend=backend, workers=workers)
        wall = time.perf_counter() - started
    finally:
        if backend == "ray":
            ray.shutdown()
    if frame["error"].notna().any():
        raise SystemExit(f"a run failed: {frame['error'].dropna().iloc[0]}")
    hashes = dict(zip(frame["run"], frame["run_hash"], strict=True))
    figures = Figures(
        workload, backend, workers, len(frame), wall, float(frame["seconds"].sum()), ray_init
    )
    return figures, hashes


def _spin(n: int = 4_000_000) -> float:
    started = time.perf_counter()
    total = 0
    for i in range(n):
        total += i * i
    return time.perf_counter() - started


def machine_parallelism() -> float:
    """Serial time of two pure-Python loops / their time in two processes (2.0: two free
    cores)."""
    started = time.perf_counter()
    _spin()
    _spin()
    serial = time.perf_counter() - started
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_spin, [1, 1]))  # start both workers before timing
        started = time.perf_counter()
        list(pool.map(_spin, [4_000_000, 4_000_000]))
        parallel = time.perf_counter() - started
    return serial / parallel


def _fill(results: list[Figures]) -> None:
    single = {(r.workload, r.backend): r.wall_s for r in results if r.workers == 1}
    for r in results:
        r.speedup = single[(r.workload, r.backend)] / r.wall_s
        r.overhead_ms = (r.wall_s * r.workers - r.task_s) / r.runs * 1000


def _print(results: list[Figures]) -> None:
    header = (
        f"{'workload':<10} {'backend':<8} {'workers':>7} {'runs':>5} {'wall s':>8} "
        f"{'task s':>8} {'speedup':>8} {'overhead/task ms':>17} {'ray init s':>11}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        init = f"{r.ray_init_s:.1f}" if r.ray_init_s is not None else "-"
        print(
            f"{r.workload:<10} {r.backend:<8} {r.workers:>7} {r.runs:>5} {r.wall_s:>8.2f} "
            f"{r.task_s:>8.2f} {r.speedup or 0:>7.2f}x {r.overhead_ms or 0:>17.1f} {init:>11}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=100_000, help="bars of the random walk")
    parser.add_argument("--short", action="store_true", help="also 64 short GOOG_1d runs")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    control_before = machine_parallelism()
    csv = ensure_csv(args.bars, CACHE_DIR)
    workloads: list[tuple[str, Path, dict[str, list[int]], tuple[str, ...]]] = [
        (f"{args.bars // 1000}k bars", BLUEPRINT, LONG_GRID, (str(csv),))
    ]
    if args.short:
        workloads.append(("GOOG_1d", EXAMPLE, SHORT_GRID, ()))
    results: list[Figures] = []
    agree = True
    for name, blueprint, grid, data in workloads:
        reference: dict[int, str] | None = None
        for backend, workers in CONFIGS:
            figures, hashes = _measure(name, blueprint, grid, data, backend, workers)
            results.append(figures)
            reference = reference or hashes
            agree = agree and hashes == reference
            print(f"  {name} {backend} x{workers}: {figures.wall_s:.2f} s", file=sys.stderr)
    _fill(results)
    load_after = os.getloadavg()
    control_after = machine_parallelism()
    if args.json:
        document: dict[str, Any] = {
            "results": [asdict(r) for r in results],
            "run_hashes_agree": agree,
            "load_before": load_before,
            "load_after": load_after,
            "machine_parallelism": [control_before, control_after],
            "cpus": os.cpu_count(),
        }
        print(json.dumps(document, indent=2))
    else:
        loads = " / ".join(f"{x:.2f}" for x in load_before)
        print(f"cpus {os.cpu_count()}; load average before {loads}, after {load_after[0]:.2f}")
        print(
            f"machine parallelism (2.0 = two free cores): before {control_before:.2f}x, "
            f"after {control_after:.2f}x"
        )
        _print(results)
        print(f"run_hash of every run identical across configurations: {agree}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
