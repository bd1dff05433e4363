"""Run a command; write its wall time, peak RSS and exit code to a JSON file.

Usage: ``python benchmarks/measure_process.py REPORT_JSON CMD [ARG...]``. The command inherits
stdin, stdout, stderr and the environment; this process exits with its exit code.

``bench_backtest.py`` runs every engine through this small process rather than spawning it
itself: Linux carries the spawning process's peak RSS over into the child's ``ru_maxrss``
across fork (or vfork) and exec, so a child of the harness, which holds numpy, pandas and the
generated bars, would report at least the harness's peak. Spawned from here, the floor is this
interpreter's ~10 MiB. Where ``os.wait4`` does not exist, psutil samples the RSS every 10 ms.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def _run_wait4(cmd: list[str]) -> tuple[int, float, int]:
    started = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    # ru_maxrss is in bytes on macOS and KiB on Linux and the BSDs.
    peak = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
    return os.waitstatus_to_exitcode(status), wall, peak


def _run_polling(cmd: list[str]) -> tuple[int, float, int]:
    import subprocess

    import psutil

    started = time.perf_counter()
    proc = subprocess.Popen(cmd)
    peak = 0
    try:
        child = psutil.Process(proc.pid)
        while proc.poll() is None:
            info = child.memory_info()
            peak = max(peak, info.rss, getattr(info, "peak_wset", 0))
            time.sleep(0.01)
    except psutil.Error:
        pass  # the child exited between poll() and memory_info()
    code = proc.wait()
    return code, time.perf_counter() - started, peak


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: measure_process.py REPORT_JSON CMD [ARG...]", file=sys.stderr)
        return 2
    report, cmd = Path(argv[0]), argv[1:]
    run = _run_wait4 if hasattr(os, "wait4") and hasattr(os, "posix_spawnp") else _run_polling
    code, wall, peak = run(cmd)
    report.write_text(json.dumps({"exit_code": code, "wall_seconds": wall, "peak_rss_bytes": peak}))
    # A child killed by signal N has exit code -N; report it the way a shell does.
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
