"""Parallel actor-learners: run a worker function in several processes, and never leave one behind.

Chapter 5 runs A3C and the asynchronous Q-learning methods with real processes. This module is the
plumbing; the algorithm (what a worker does between two updates) stays in the notebook::

    from course_lib.networks import ActorCritic
    from course_lib.portable import portable
    from course_lib.shared_optim import SharedAdam
    from course_lib.workers import run_workers

    model = ActorCritic(4, 2)
    model.share_memory()                        # parameters move to shared memory: every worker sees them
    optimizer = SharedAdam(model.parameters(), lr=1e-3)   # Adam statistics shared too

    def my_worker(ctx, model, optimizer, config):  # runs in each worker process
        while not ctx.should_stop():
            ...                                    # act, learn, update the shared model
            ctx.add_steps(n)                       # the global step counter T
            ctx.report(episode_return=G)           # sent to the main process

    result = run_workers(portable(my_worker), n_workers=2, args=(model, optimizer, config),
                         max_steps=100_000, max_seconds=60)

**Start methods.** ``fork`` (the Linux default up to Python 3.13) copies the running notebook into
each child: everything defined in the notebook exists there. ``spawn`` (macOS, Windows) and
``forkserver`` (the Linux default from Python 3.14) start a fresh interpreter that receives the
worker function and its arguments by pickling; a function defined in a notebook must then be made
with :func:`course_lib.portable.portable`. ``run_workers`` works the same with all three methods.

**Workers never outlive the call.** Each child checks :meth:`WorkerContext.should_stop` (a stop
event, a deadline, and whether the main process is still alive); ``run_workers`` always sets the
stop event, joins with a timeout, then terminates and kills what is left, in a ``finally`` block
(also on an exception or a KeyboardInterrupt). A worker that raises is reported with its traceback
(:class:`WorkerError`), and the others are stopped; one that dies silently is reported with its exit
code. Children are daemonic: they are also killed if the main process exits.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_module
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.multiprocessing as torch_mp  # registers the shared-memory reductions of tensors

__all__ = ["run_workers", "RunResult", "WorkerContext", "WorkerError", "default_start_method", "start_methods"]


def start_methods() -> list[str]:
    """The start methods this platform offers (``fork`` and ``forkserver`` are POSIX only)."""
    return mp.get_all_start_methods()


def default_start_method() -> str:
    """This Python's default start method (``fork`` on Linux up to 3.13, ``spawn`` on macOS/Windows)."""
    return mp.get_start_method(allow_none=True) or mp.get_context().get_start_method()


class WorkerError(RuntimeError):
    """A worker raised or died. ``rank`` is the worker; the message holds its traceback; ``result``
    the :class:`RunResult` of the run so far."""

    def __init__(self, message: str, rank: int | None = None):
        super().__init__(message)
        self.rank = rank
        self.result: RunResult | None = None  # what the run had done, set by run_workers


class WorkerContext:
    """What a worker receives as its first argument.

    Attributes: ``rank`` (0 .. n_workers-1), ``n_workers``, ``seed`` (a different seed per
    worker: ``base seed + 1000 * rank``).
    """

    def __init__(self, rank: int, n_workers: int, seed: int, stop, counter, messages, deadline: float):
        self.rank, self.n_workers, self.seed = rank, n_workers, seed
        self._stop, self._counter, self._messages, self._deadline = stop, counter, messages, deadline
        self._parent = mp.parent_process()
        self._last_check, self._stopping = 0.0, False

    def should_stop(self) -> bool:
        """True when the main process asks the workers to stop, the deadline passed, or the main
        process died. Call it at least once per update; it is cheap."""
        if self._stopping:
            return True
        now = time.monotonic()
        if now - self._last_check < 0.02:
            return False
        self._last_check = now
        self._stopping = (self._stop.is_set() or time.time() > self._deadline
                          or (self._parent is not None and not self._parent.is_alive()))
        return self._stopping

    def add_steps(self, n: int) -> int:
        """Add ``n`` environment steps to the global counter T shared by all workers; returns T."""
        with self._counter.get_lock():
            self._counter.value += int(n)
            return self._counter.value

    @property
    def global_steps(self) -> int:
        """The global step counter T (all workers together)."""
        return self._counter.value

    def report(self, **metrics: float) -> None:
        """Send metrics to the main process, e.g. ``ctx.report(episode_return=G)``."""
        self._messages.put(("report", self.rank, self._counter.value, {k: float(v) for k, v in metrics.items()}))


def _worker_main(worker, rank, n_workers, seed, stop, counter, messages, deadline, args, kwargs):
    """Entry point of every worker process: run ``worker``, report a crash with its traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt stops the main process; it stops us
    torch.set_num_threads(1)
    ctx = WorkerContext(rank, n_workers, seed, stop, counter, messages, deadline)
    messages.put(("started", rank, 0, time.time()))
    code = 0
    try:
        worker(ctx, *args, **kwargs)
        messages.put(("done", rank, counter.value, None))
    except BaseException:  # noqa: BLE001 (everything is reported, then the worker exits)
        messages.put(("error", rank, counter.value, traceback.format_exc()))
        code = 1
    finally:
        messages.close()
        messages.join_thread()  # make sure the last message reached the pipe
    # Leave at once: tearing down an interpreter that imported torch takes seconds under load, and
    # everything this worker had to say is in the pipe already (fork exits this way too).
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    os._exit(code)


@dataclass
class RunResult:
    """What :func:`run_workers` returns (and passes to ``monitor`` while it runs).

    Attributes:
        steps: the global step counter T (all workers' ``add_steps`` together).
        seconds: wall-clock seconds since the workers were started.
        reports: every ``(rank, T at the time, metrics)`` the workers sent, in arrival order.
        new_reports: the reports that arrived since the previous ``monitor`` call (after the run:
            those that no ``monitor`` call has seen).
        finished: ranks whose worker function returned.
        stopped_by: why the run ended: ``"monitor"``, ``"max_steps"``, ``"max_seconds"``,
            ``"finished"`` or ``"error"``.
        start_seconds: seconds from the call to every worker running its first line.
        exit_codes: each worker's exit code (0 = clean; negative = killed by that signal).
        pids: the worker processes' ids (all of them have ended when run_workers returns).
    """

    n_workers: int
    start_method: str
    steps: int = 0
    seconds: float = 0.0
    reports: list = field(default_factory=list)
    new_reports: list = field(default_factory=list)
    finished: set = field(default_factory=set)
    stopped_by: str = ""
    start_seconds: float = float("nan")
    exit_codes: list = field(default_factory=list)
    pids: list = field(default_factory=list)

    def metric(self, name: str) -> tuple[list[int], list[float]]:
        """``(T values, metric values)`` of one reported metric, in arrival order."""
        pairs = [(t, m[name]) for _, t, m in self.reports if name in m]
        return [p[0] for p in pairs], [p[1] for p in pairs]


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def run_workers(worker: Callable, n_workers: int, args: tuple = (), kwargs: dict | None = None,
                start_method: str | None = None, max_steps: int | None = None, max_seconds: float = 60.0,
                monitor: Callable[[RunResult], Any] | None = None, monitor_every_s: float = 0.25,
                seed: int = 0, join_timeout_s: float = 3.0) -> RunResult:
    """Run ``worker(ctx, *args, **kwargs)`` in ``n_workers`` processes until a stop condition.

    Args:
        worker: a function whose first argument is a :class:`WorkerContext`. With ``spawn`` or
            ``forkserver`` it must be importable or made with :func:`portable`.
        args, kwargs: passed to every worker: shared models (``model.share_memory()`` first),
            shared optimizers, configuration. Under spawn they are pickled (tensors in shared memory
            travel as handles, not copies).
        start_method: ``"fork"``, ``"spawn"``, ``"forkserver"`` or ``None`` for the platform default.
        max_steps: stop when the global step counter reaches it.
        max_seconds: stop after this long, whatever happens (workers also stop by themselves a
            little later, should the main process be stuck).
        monitor: called in the main process about every ``monitor_every_s`` seconds with the
            :class:`RunResult` so far (evaluate the shared model, update a progress bar...); return
            True to stop the workers.
        seed: worker ``k`` gets ``ctx.seed = seed + 1000 * k``.
        join_timeout_s: how long stopping workers may take before they are terminated, then killed.

    Returns:
        the :class:`RunResult`. Raises :class:`WorkerError` if a worker raised or died (after
        stopping the others). No worker process is left running when this function returns or raises.
    """
    method = start_method or default_start_method()
    if method not in start_methods():
        raise ValueError(f"start method {method!r} is not available here; choose from {start_methods()}")
    if n_workers < 1:
        raise ValueError(f"n_workers must be at least 1, got {n_workers}")
    ctx = torch_mp.get_context(method)
    stop, counter, messages = ctx.Event(), ctx.Value("q", 0), ctx.Queue()
    deadline = time.time() + max_seconds + 2 * join_timeout_s + 30.0  # the workers' own last resort
    result = RunResult(n_workers=n_workers, start_method=method)
    procs = [ctx.Process(target=_worker_main, name=f"course-worker-{rank}", daemon=True,
                         args=(worker, rank, n_workers, seed + 1000 * rank, stop, counter, messages,
                               deadline, tuple(args), dict(kwargs or {})))
             for rank in range(n_workers)]
    t0, t_wall = time.perf_counter(), time.time()
    started: dict[int, float] = {}
    failure: WorkerError | None = None

    def drain(block_s: float = 0.0) -> None:
        nonlocal failure
        end = time.perf_counter() + block_s
        while True:
            try:
                wait = max(0.0, end - time.perf_counter())
                kind, rank, steps, payload = messages.get(timeout=wait) if wait > 0 else messages.get_nowait()
            except (queue_module.Empty, EOFError, OSError):
                return
            if kind == "report":
                result.reports.append((rank, steps, payload))
                result.new_reports.append((rank, steps, payload))
            elif kind == "started":
                started[rank] = payload
                if len(started) == n_workers:
                    result.start_seconds = max(started.values()) - t_wall
            elif kind == "done":
                result.finished.add(rank)
            elif kind == "error" and failure is None:
                failure = WorkerError(f"worker {rank} of {n_workers} ({method}) crashed:\n{payload}", rank)

    try:
        for p in procs:
            p.start()
            result.pids.append(p.pid)
        next_monitor = time.perf_counter() + monitor_every_s
        while True:
            drain(block_s=0.02)
            result.steps, result.seconds = counter.value, time.perf_counter() - t0
            if failure is not None:
                result.stopped_by = "error"
                break
            if max_steps is not None and result.steps >= max_steps:
                result.stopped_by = "max_steps"
                break
            if result.seconds >= max_seconds:
                result.stopped_by = "max_seconds"
                break
            if len(result.finished) == n_workers:
                result.stopped_by = "finished"
                break
            dead = [(k, p.exitcode) for k, p in enumerate(procs) if not p.is_alive() and k not in result.finished]
            if dead:
                drain(block_s=0.2)  # its last words may still be in the pipe
                if failure is None and not all(k in result.finished for k, _ in dead):
                    k, code = next((k, c) for k, c in dead if k not in result.finished)
                    failure = WorkerError(f"worker {k} of {n_workers} ({method}) died without a word "
                                          f"({_describe_exit(code)})", k)
                continue
            if monitor is not None and time.perf_counter() >= next_monitor:
                next_monitor = time.perf_counter() + monitor_every_s
                stop_now = monitor(result)
                result.new_reports = []
                if stop_now:
                    result.stopped_by = "monitor"
                    break
    finally:
        stop.set()
        end = time.perf_counter() + join_timeout_s
        while any(p.is_alive() for p in procs) and time.perf_counter() < end:
            drain(block_s=0.02)  # a worker blocked on a full pipe cannot exit
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=1.0)
            if p.is_alive():
                p.kill()
                p.join(timeout=1.0)
        drain()
        result.steps, result.seconds = counter.value, time.perf_counter() - t0
        result.exit_codes = [p.exitcode for p in procs]
        for p in procs:
            try:
                p.close()
            except ValueError:
                pass
        messages.close()
        messages.cancel_join_thread()
    if failure is not None:
        failure.result = result
        raise failure
    return result
