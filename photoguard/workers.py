"""The batch plumbing of check and redact: one function over many items, in order, in this
process or in worker processes that build their models once and die with their parent."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from photoguard.scan import CheckContext


class Workers:
    """Where a run's detectors run: this process (``workers`` <= 1) or worker processes.

    Use as a context manager. Worker processes all start on entry, each calls ``warm(ctx)``
    as it starts (a picklable function that builds its models; it must not raise), keep what
    they built, and die with this process (kill -9 included); on any exit from the ``with``
    block other than a normal one, Ctrl-C included, they are stopped at once.
    """

    def __init__(self, ctx: CheckContext, workers: int, warm=None) -> None:
        self.ctx, self.workers, self.warm = ctx, workers, warm
        self._pool = None

    def __enter__(self) -> Workers:
        if self.workers > 1:
            import concurrent.futures as cf
            import multiprocessing as mp

            self._pool = cf.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=mp.get_context("spawn"),
                initializer=worker_init,
                initargs=(threads_per_worker(self.workers), self.ctx, os.getpid(), self.warm),
            )
            # Start every worker now (the executor starts one per task it cannot place), so
            # that all of them build their models at once, in parallel, before the first file.
            for _ in range(self.workers):
                self._pool.submit(_in_worker, _Called(_nothing), None)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if exc_type is None:
            pool.shutdown()
        else:
            _stop_workers(pool)

    def call(self, fn):
        """``fn(ctx)`` in one worker (the first to start, which keeps what it built), or here.

        Its exception, a named error included, is raised here as it was raised there.
        """
        if self._pool is None:
            return fn(self.ctx)
        return _result(self._pool.submit(_in_worker, _Called(fn), None))

    def map(self, fn, items: Iterable) -> Iterator:
        """``fn(item, ctx)`` for each item, results in order.

        At most ``2 * workers`` items are in flight, so memory stays flat however many files
        there are.
        """
        if self._pool is None:
            for item in items:
                yield fn(item, self.ctx)
            return
        from collections import deque

        pending: deque = deque()
        try:
            for item in items:
                # The context (settings, the registry snapshot) went to each worker once.
                pending.append(self._pool.submit(_in_worker, fn, item))
                if len(pending) >= 2 * self.workers:
                    yield _result(pending.popleft())
            while pending:
                yield _result(pending.popleft())
        except BaseException:
            _stop_workers(self._pool)
            raise


def _result(future):
    """A worker's result, or its exception; a worker that died is a named error, not a
    traceback (the run stops: the files in flight were not judged)."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        from photoguard.errors import WorkerDied

        raise WorkerDied(
            "a worker process died (killed, out of memory or a crash in a native library): "
            "the run stopped before the files in flight were judged; run it again"
        ) from None


class _Called:
    """``fn(ctx)`` in the shape of a mapped function (the item is ignored); picklable."""

    def __init__(self, fn) -> None:
        self.fn = fn

    def __call__(self, _item, ctx: CheckContext):
        return self.fn(ctx)


def _nothing(_ctx: CheckContext) -> None:
    """A task that only makes the executor start a worker."""


def map_items(fn, items: Iterable, ctx: CheckContext, workers: int) -> Iterator:
    """Apply ``fn(item, ctx)`` in order, in this process or in ``workers`` processes."""
    with Workers(ctx, workers) as pool:
        yield from pool.map(fn, items)


def _stop_workers(pool) -> None:
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def threads_per_worker(workers: int) -> int:
    """Model threads per worker: the cores shared out, so workers x threads = cores."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, workers))


_WORKER_CTX: CheckContext | None = None
"""The run's context in a worker process, set once by worker_init."""


def worker_init(threads: int, ctx: CheckContext, parent: int | None = None, warm=None) -> None:
    """Set up a worker process: its share of the cores, the run's context (received once, here,
    not with each task), death with its parent; then ``warm(ctx)``, which builds its models."""
    global _WORKER_CTX
    import signal

    # Read by photoguard.detect.runtime when a worker builds its onnxruntime sessions.
    os.environ["PHOTOGUARD_THREADS"] = str(threads)
    _opencv_threads(threads)
    _WORKER_CTX = ctx
    # Ctrl-C is the parent's to handle: it stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        _die_with_parent(parent)
    if warm is not None and ctx is not None:
        warm(ctx)


def _opencv_threads(threads: int) -> None:
    """OpenCV's parallel loops in this worker use ``threads`` threads (as onnxruntime does).

    By default each worker's OpenCV runs one thread per core, so N workers ran N x cores
    threads on the cores: in a 2-worker check of 12 MP photos each worker's second thread ran
    0.2-0.3 CPU-s of OpenCV per photo while the other worker needed that core (the same work
    now runs on the worker's own thread, at the same total CPU).
    """
    try:
        import cv2
    except ImportError:  # the detectors that need it say so when they are built
        return
    cv2.setNumThreads(threads)


def _in_worker(fn, item):
    if _WORKER_CTX is None:
        raise RuntimeError("worker process was not initialised")
    return fn(item, _WORKER_CTX)


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this worker when its parent dies (kill -9 included); Linux only."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the executor's own broken-pipe handling is what remains
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
