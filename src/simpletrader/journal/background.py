"""One background thread per process for the journal's chunk compression and hashing.

``zlib.compress`` and BLAKE2b over large buffers release the GIL, so a full chunk's ~1 µs per
entry runs beside the engine instead of in it. A single worker runs jobs in submission order,
which keeps each journal's hash updates in order; every journal shares it, so none leaks a
thread. A forked child (the sweep's process pool) starts its own worker on first use, and a
fork waits until the parent's queue is empty, so no child inherits a half-updated hasher.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

_pool: ThreadPoolExecutor | None = None
_pid = 0


def _worker() -> ThreadPoolExecutor:
    global _pool, _pid
    if _pool is None or _pid != os.getpid():
        _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simpletrader-journal")
        _pid = os.getpid()
    return _pool


def submit(job: Callable[..., None], *args: Any) -> Future[None]:
    """Run ``job(*args)`` on the worker after every job submitted before it."""
    try:
        return _worker().submit(job, *args)
    except RuntimeError:  # the interpreter is shutting down: no new threads, run it here
        done: Future[None] = Future()
        try:
            job(*args)
        except BaseException as exc:
            done.set_exception(exc)
        else:
            done.set_result(None)
        return done


def _noop() -> None:
    pass


def drain() -> None:
    """Wait until every job submitted so far has run (errors stay with their futures)."""
    if _pool is None or _pid != os.getpid():
        return
    with contextlib.suppress(RuntimeError):  # shut down: its queue has already been run
        wait([_pool.submit(_noop)])


os.register_at_fork(before=drain)
