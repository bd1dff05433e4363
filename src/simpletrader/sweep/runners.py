"""Where sweep tasks run: Ray (local or a cluster), a local process pool, or this process.

Every runner receives the loaded markets once when it opens (Ray: one ``ray.put`` each; pool:
the worker initializer) and then runs tasks, yielding rows as they finish. All of them execute
:func:`simpletrader.sweep.tasks.execute`, so a task's row is the same whichever runs it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from importlib.util import find_spec
from types import TracebackType
from typing import Any, Literal

from simpletrader.core.errors import ConfigError
from simpletrader.sweep.tasks import (
    Market,
    Row,
    SweepTask,
    error_fields,
    execute,
    execute_in_pool,
    init_pool_worker,
)

logger = logging.getLogger(__name__)

Backend = Literal["auto", "ray", "process"]
BACKENDS: tuple[str, ...] = ("auto", "ray", "process")


def ray_available() -> bool:
    """Whether the optional ``ray`` extra is installed."""
    return find_spec("ray") is not None


def failed_row(task: SweepTask, exc: BaseException) -> Row:
    """The row of a task whose worker died or could not run it at all."""
    return {"run": task.run, **task.labels, **task.params, **error_fields(exc), "seconds": None}


class Runner(ABC):
    """Runs sweep tasks on markets shipped once; use as a context manager."""

    name: str = ""

    @abstractmethod
    def run(self, tasks: Sequence[SweepTask]) -> Iterator[Row]:
        """Yield one row per task, in the order they finish."""

    @abstractmethod
    def close(self, interrupted: bool = False) -> None:
        """Release workers; ``interrupted`` stops running tasks instead of waiting for them."""

    def __enter__(self) -> Runner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(interrupted=exc_type is not None)


class LocalRunner(Runner):
    """Runs tasks one after another in this process (``workers=1``)."""

    name = "local"

    def __init__(self, markets: dict[str, Market]) -> None:
        self._markets = markets

    def run(self, tasks: Sequence[SweepTask]) -> Iterator[Row]:
        for task in tasks:
            yield execute(task, self._markets[task.market_key])

    def close(self, interrupted: bool = False) -> None:
        """Nothing to release: the tasks ran in this process."""


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork: workers inherit the imported package and the markets without pickling, and it does
    # not re-run the main module (``python -m simpletrader`` would start the CLI again under
    # spawn). Where fork is not the safe default (macOS, Windows) use the platform's default.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


class PoolRunner(Runner):
    """A local ``ProcessPoolExecutor``; each worker gets the markets once, via its initializer."""

    name = "process"

    def __init__(self, markets: dict[str, Market], workers: int) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=_pool_context(),
            initializer=init_pool_worker,
            initargs=(markets,),
        )

    def run(self, tasks: Sequence[SweepTask]) -> Iterator[Row]:
        futures: dict[Future[Row], SweepTask] = {
            self._pool.submit(execute_in_pool, task): task for task in tasks
        }
        try:
            for future in as_completed(futures):
                try:
                    row = future.result()
                except Exception as exc:  # a worker died (BrokenProcessPool) or pickling failed
                    row = failed_row(futures[future], exc)
                yield row
        finally:
            for future in futures:
                future.cancel()

    def close(self, interrupted: bool = False) -> None:
        if interrupted:
            # Workers ignore SIGINT; stop the ones still running instead of waiting for them.
            processes: dict[int, Any] = getattr(self._pool, "_processes", None) or {}
            for process in list(processes.values()):
                process.terminate()
            self._pool.shutdown(wait=False, cancel_futures=True)
        else:
            self._pool.shutdown(wait=True)


class RayRunner(Runner):
    """One Ray task per sweep task; the markets are put in the object store once.

    Joins ``address`` (``auto`` or ``HOST:PORT``) or an already initialised Ray; otherwise starts
    a local Ray with ``workers`` CPUs and shuts it down on close. At most ``workers`` tasks are
    in flight when given, else twice the cluster's CPUs (enough to keep them busy).
    """

    name = "ray"

    def __init__(
        self, markets: dict[str, Market], workers: int | None, address: str | None
    ) -> None:
        import ray

        self._ray: Any = ray
        self._started = False
        if not self._ray.is_initialized():
            if address is not None:
                self._ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
            else:
                self._ray.init(
                    num_cpus=workers or os.cpu_count() or 1,
                    include_dashboard=False,
                    logging_level=logging.WARNING,
                    log_to_driver=False,
                )
            self._started = True
        cpus = int(self._ray.cluster_resources().get("CPU", 1))
        self._in_flight = workers if workers is not None else max(2, 2 * cpus)
        self._remote = self._ray.remote(num_cpus=1, max_retries=0)(execute)
        self._refs = {key: self._ray.put(market) for key, market in markets.items()}

    def run(self, tasks: Sequence[SweepTask]) -> Iterator[Row]:
        ray = self._ray
        queue = deque(tasks)
        pending: dict[Any, SweepTask] = {}
        try:
            while queue or pending:
                while queue and len(pending) < self._in_flight:
                    task = queue.popleft()
                    pending[self._remote.remote(task, self._refs[task.market_key])] = task
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    task = pending.pop(ref)
                    try:
                        row: Row = ray.get(ref)
                    except Exception as exc:  # the worker died or the task could not be sent
                        row = failed_row(task, exc)
                    yield row
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)

    def close(self, interrupted: bool = False) -> None:
        self._refs.clear()
        if self._started:
            self._ray.shutdown()


def open_runner(
    markets: dict[str, Market],
    backend: str = "auto",
    workers: int | None = None,
    ray_address: str | None = None,
) -> Runner:
    """The runner for ``backend``.

    ``auto`` is Ray when the ``ray`` extra is installed (or ``ray_address`` is given) and
    ``workers`` is not 1, else the process pool; the process pool with one worker runs in this
    process. ``workers`` defaults to the machine's CPUs.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"backend {backend!r} is unknown; valid: {', '.join(BACKENDS)}")
    if workers is not None and workers < 1:
        raise ConfigError(f"workers={workers}: need at least 1")
    if backend == "auto":
        use_ray = ray_address is not None or (workers != 1 and ray_available())
        backend = "ray" if use_ray else "process"
    if backend == "ray":
        if not ray_available():
            raise ConfigError(
                "the Ray backend needs the optional extra: pip install 'simpletrader[ray]' "
                "(or use --workers 1 / backend 'process' for the local process pool)"
            )
        return RayRunner(markets, workers, ray_address)
    if ray_address is not None:
        raise ConfigError("a Ray address was given but the backend is 'process'")
    count = workers or os.cpu_count() or 1
    if count == 1:
        return LocalRunner(markets)
    return PoolRunner(markets, count)
