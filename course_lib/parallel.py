"""Parallel actor-learners: worker processes, shared parameters, lock-free (Hogwild!) updates.

Chapter 5 runs A3C and the asynchronous Q-learning methods with real processes. This module is the
plumbing; the algorithm (what a worker does between two updates) stays in the notebook::

    from course_lib.parallel import ActorCritic, SharedAdam, portable, run_workers

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
worker function and its arguments by pickling; a function is pickled *by name* and must be
importable, which a function defined in a notebook is not. :func:`portable` solves this: it sends
the function's *source code* (and the source of the notebook functions it calls, and the imports
it uses), and the child executes it. ``run_workers`` works the same with all three methods.

**Workers never outlive the call.** Each child checks :meth:`WorkerContext.should_stop` (a stop
event, a deadline, and whether the main process is still alive); ``run_workers`` always sets the
stop event, joins with a timeout, then terminates and kills what is left, in a ``finally`` block
(also on an exception or a KeyboardInterrupt). A worker that raises is reported with its traceback
(:class:`WorkerError`), and the others are stopped; one that dies silently is reported with its exit
code. Children are daemonic: they are also killed if the main process exits.

**Hogwild!** (Niu et al., 2011): workers update the shared parameters without locks. Niu et al.'s
convergence guarantee assumes sparse updates that rarely collide; a network's gradients are dense,
so for A3C lock-free updates are justified by experiment (Mnih et al., 2016), not by that proof.
"""
from __future__ import annotations

import ast
import builtins
import dis
import importlib
import inspect
import itertools
import linecache
import math
import multiprocessing as mp
import os
import pickle
import queue as queue_module
import signal
import sys
import textwrap
import time
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
import torch.multiprocessing as torch_mp  # registers the shared-memory reductions of tensors
from torch import nn

from course_lib.reuse import code_cells

__all__ = ["ActorCritic", "QNetwork", "SharedAdam", "SharedRMSprop", "portable", "Portable",
           "load_functions", "run_workers", "RunResult", "WorkerContext", "WorkerError",
           "default_start_method", "start_methods"]


# ---------------------------------------------------------------------------------- networks


def _layer(n_in: int, n_out: int, gain: float) -> nn.Linear:
    layer = nn.Linear(n_in, n_out)
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def _mlp(n_in: int, hidden: tuple[int, ...], gain: float = math.sqrt(2)) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [_layer(n_in, h, gain), nn.Tanh()]
        n_in = h
    return nn.Sequential(*layers), n_in


class ActorCritic(nn.Module):
    """An actor (policy logits) and a critic (state value) for discrete actions.

    Args:
        obs_dim: size of the observation vector.
        n_actions: number of discrete actions.
        hidden: sizes of the hidden layers (tanh).
        shared: one trunk for both heads (``True``) or two separate networks (``False``, the
            default: the critic's large gradients then cannot disturb the actor's features).

    ``forward(obs)`` takes a float tensor ``(B, obs_dim)`` and returns ``(logits (B, n_actions),
    values (B,))``. Initialisation as in OpenAI Baselines and Stable-Baselines3 (not from the A3C
    paper): orthogonal weights, gain sqrt(2) for hidden layers, 0.01 for the policy head (a nearly
    uniform first policy), 1 for the value head.
    """

    def __init__(self, obs_dim: int, n_actions: int, hidden: tuple[int, ...] = (64, 64), shared: bool = False):
        super().__init__()
        self.obs_dim, self.n_actions, self.hidden, self.shared = obs_dim, n_actions, tuple(hidden), shared
        self.actor_body, width = _mlp(obs_dim, self.hidden)
        self.critic_body = self.actor_body if shared else _mlp(obs_dim, self.hidden)[0]
        self.policy_head = _layer(width, n_actions, 0.01)
        self.value_head = _layer(width, 1, 1.0)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.actor_body(obs)
        critic_features = features if self.shared else self.critic_body(obs)
        return self.policy_head(features), self.value_head(critic_features).squeeze(-1)

    def logits(self, obs: torch.Tensor) -> torch.Tensor:
        """The policy's logits only ``(B, n_actions)`` (acting needs no value)."""
        return self.policy_head(self.actor_body(obs))

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """The critic's values only ``(B,)``."""
        return self.value_head(self.critic_body(obs)).squeeze(-1)

    def act(self, obs, greedy: bool = False) -> int:
        """One action for one observation (a numpy array): sampled, or the most likely if ``greedy``."""
        with torch.no_grad():
            x = torch.as_tensor(obs, dtype=torch.float32, device=self.policy_head.weight.device)
            logits = self.logits(x.unsqueeze(0))[0]
            if greedy:
                return int(logits.argmax())
            return int(torch.multinomial(torch.softmax(logits, -1), 1))

    def clone(self) -> "ActorCritic":
        """A private copy (same architecture and weights, ordinary memory): a worker's local model."""
        twin = ActorCritic(self.obs_dim, self.n_actions, self.hidden, self.shared)
        twin.load_state_dict(self.state_dict())
        return twin


class QNetwork(nn.Module):
    """Q-values ``(B, n_actions)`` of observations ``(B, obs_dim)``: an MLP with ReLU hidden layers."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: tuple[int, ...] = (64, 64)):
        super().__init__()
        self.obs_dim, self.n_actions, self.hidden = obs_dim, n_actions, tuple(hidden)
        layers: list[nn.Module] = []
        n_in = obs_dim
        for h in self.hidden:
            layers += [nn.Linear(n_in, h), nn.ReLU()]
            n_in = h
        layers.append(nn.Linear(n_in, n_actions))
        self.net = nn.Sequential(*layers)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)

    def act(self, obs, epsilon: float = 0.0, rng=None) -> int:
        """Epsilon-greedy action for one observation (``rng``: a numpy Generator, for the coin)."""
        if epsilon > 0 and rng is not None and rng.random() < epsilon:
            return int(rng.integers(self.n_actions))
        with torch.no_grad():
            x = torch.as_tensor(obs, dtype=torch.float32, device=self.net[0].weight.device)
            return int(self.forward(x.unsqueeze(0))[0].argmax())

    def clone(self) -> "QNetwork":
        """A private copy (same architecture and weights, ordinary memory)."""
        twin = QNetwork(self.obs_dim, self.n_actions, self.hidden)
        twin.load_state_dict(self.state_dict())
        return twin


# ---------------------------------------------------------------------------------- shared optimizers


def _share_state(optimizer: torch.optim.Optimizer, names: tuple[str, ...]) -> None:
    for group in optimizer.param_groups:
        for p in group["params"]:
            state = optimizer.state[p]
            state["step"] = torch.zeros((), dtype=torch.float32)
            for name in names:
                state[name] = torch.zeros_like(p, memory_format=torch.preserve_format)
    for state in optimizer.state.values():
        for value in state.values():
            if torch.is_tensor(value):
                value.share_memory_()


class SharedAdam(torch.optim.Adam):
    """Adam whose moment estimates (and step counts) live in shared memory.

    Plain Adam creates its statistics lazily, at the first ``step()``, inside whichever process
    calls it: each worker would keep private statistics. Here they are created at once and moved
    to shared memory, so every worker's ``step()`` reads and updates the same ones (without locks,
    Hogwild!-style). Create it in the main process, after ``model.share_memory()``, and pass it to
    the workers.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=True)
        _share_state(self, ("exp_avg", "exp_avg_sq"))


class SharedRMSprop(torch.optim.RMSprop):
    """RMSprop with its running average of squared gradients in shared memory (the A3C paper's
    "shared RMSProp", which it found more robust than per-thread statistics)."""

    def __init__(self, params, lr: float = 7e-4, alpha: float = 0.99, eps: float = 1e-5, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, foreach=True)
        _share_state(self, ("square_avg",))


# ---------------------------------------------------------------------------------- portable functions

_PORTABLE_MODULE = "__course_portable__"
_cell_counter = itertools.count()


def _global_names(code: types.CodeType) -> set[str]:
    """Global names a code object (and the functions and comprehensions nested in it) loads."""
    names = {ins.argval for ins in dis.get_instructions(code)
             if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL")}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return {n for n in names if isinstance(n, str)}


def _importable(obj: Any) -> tuple[str, str] | None:
    """``(module, qualified name)`` when ``obj`` can be imported by name in a fresh interpreter."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or module in ("__main__", _PORTABLE_MODULE) or "<locals>" in qualname:
        return None
    try:
        found = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except Exception:
        return None
    return (module, qualname) if found is obj else None


def _source_of(fn: Callable) -> str:
    source = getattr(fn, "__course_source__", None)
    if source is None:
        try:
            source = inspect.getsource(fn)
        except (OSError, TypeError) as exc:
            raise ValueError(f"portable: cannot read the source code of {fn.__name__!r} ({exc}). Define it "
                             "in a notebook cell or a file; lambdas and built-ins cannot be sent.") from exc
    return textwrap.dedent(source)


class Portable:
    """A notebook function that travels to worker processes as source code (see :func:`portable`).

    Calling it calls the function. ``.sources`` holds what is sent: ``{name: source}`` for the
    function and every notebook function it calls (found by following its global names);
    ``.imports`` the modules and importable objects it uses, ``{name: (module, qualname)}``;
    ``.values`` other globals it reads (numbers, strings, small containers), sent by pickling.
    """

    def __init__(self, name: str, sources: dict[str, str], imports: dict[str, tuple[str, str | None]],
                 values: dict[str, bytes]):
        self.name, self.sources, self.imports, self.values = name, sources, imports, values
        self._function = self._build()

    # The namespace is rebuilt from the sources in every process (the parent too), so a function
    # behaves the same under fork, spawn and forkserver: if it needs something that is not sent,
    # it fails everywhere, with a NameError naming it.
    def _build(self) -> Callable:
        namespace: dict[str, Any] = {"__name__": _PORTABLE_MODULE, "__builtins__": builtins}
        for alias, (module, qualname) in self.imports.items():
            obj = importlib.import_module(module)
            for part in (qualname.split(".") if qualname else []):
                obj = getattr(obj, part)
            namespace[alias] = obj
        for alias, blob in self.values.items():
            namespace[alias] = pickle.loads(blob)
        for name, source in self.sources.items():
            filename = f"<portable {name} #{next(_cell_counter)}>"
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            exec(compile(source, filename, "exec"), namespace)
        return namespace[self.name]

    def __call__(self, *args, **kwargs):
        if self._function is None:
            self._function = self._build()
        return self._function(*args, **kwargs)

    def __getstate__(self):
        return {"name": self.name, "sources": self.sources, "imports": self.imports, "values": self.values}

    def __setstate__(self, state):
        # Rebuilt at the first call, inside the worker: an error (a failed import, say) is then
        # reported with its traceback like any other error of the worker.
        self.__dict__.update(state)
        self._function = None

    def __repr__(self) -> str:
        return (f"portable({self.name}: sends {sorted(self.sources)}, imports {sorted(self.imports)}"
                f"{', values ' + str(sorted(self.values)) if self.values else ''})")


def portable(fn: Callable) -> Portable:
    """Make a notebook function sendable to worker processes under any start method.

    ``fn`` and the notebook functions it calls (directly or through each other) are sent as source
    code; the modules it uses (``np``, ``torch``, ``F``...) and the importable functions and classes
    it uses (``make_env``, ``ActorCritic``...) are imported by name in the child; other globals it
    reads (a constant such as ``GAMMA = 0.99``) are sent by value.

    Limits, each reported with a clear error here, in the main process: closures (functions defined
    inside functions), lambdas, and classes defined in the notebook (put them in a module, or pass
    their data as arguments). A function that depends on a global that changes later sees the
    value it had when ``portable`` was called.
    """
    if isinstance(fn, Portable):
        return fn
    if not isinstance(fn, types.FunctionType):
        raise TypeError(f"portable() takes a function defined with def, got {type(fn).__name__}")
    sources: dict[str, str] = {}
    imports: dict[str, tuple[str, str | None]] = {}
    values: dict[str, bytes] = {}
    todo = [fn]
    while todo:
        f = todo.pop()
        if f.__name__ in sources:
            continue
        if f.__name__ == "<lambda>":
            raise ValueError("portable: lambdas cannot be sent to worker processes; use def")
        if f.__closure__:
            raise ValueError(f"portable: {f.__name__!r} is defined inside another function (a closure); "
                             "define it at the top level of a cell")
        sources[f.__name__] = _source_of(f)
        for name in sorted(_global_names(f.__code__) | _names_in_defaults(sources[f.__name__])):
            if name in sources or name in imports or name in values or name == f.__name__:
                continue
            if name not in f.__globals__:
                continue  # a builtin, or a name the function defines itself; a missing one fails loudly later
            obj = f.__globals__[name]
            if isinstance(obj, types.ModuleType):
                imports[name] = (obj.__name__, None)
            elif (where := _importable(obj)) is not None:
                imports[name] = where
            elif isinstance(obj, types.FunctionType):
                todo.append(obj)
            elif isinstance(obj, Portable):
                sources.update(obj.sources)
                imports.update(obj.imports)
                values.update(obj.values)
            elif isinstance(obj, type):
                raise ValueError(f"portable: {f.__name__!r} uses the class {name!r}, defined in the notebook: "
                                 "a worker started with spawn cannot import it. Use a class from a module "
                                 "(course_lib.parallel.ActorCritic, ...) or pass what you need as arguments.")
            else:
                try:
                    values[name] = pickle.dumps(obj)
                except Exception as exc:
                    raise ValueError(f"portable: {f.__name__!r} reads the global {name!r} "
                                     f"({type(obj).__name__}), which cannot be sent ({exc}); pass it as an "
                                     "argument instead") from exc
    # the entry function last, so that its helpers exist when its default values are evaluated
    ordered = {k: v for k, v in sources.items() if k != fn.__name__}
    ordered[fn.__name__] = sources[fn.__name__]
    return Portable(fn.__name__, ordered, imports, values)


def _names_in_defaults(source: str) -> set[str]:
    """Names read by a def's decorators and default values (evaluated when the def runs)."""
    try:
        node = ast.parse(source).body[0]
    except (SyntaxError, IndexError):
        return set()
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return set()
    roots = list(node.decorator_list) + list(node.args.defaults) + [d for d in node.args.kw_defaults if d]
    return {n.id for r in roots for n in ast.walk(r) if isinstance(n, ast.Name)}


def load_functions(notebook: str | Path, names: list[str], namespace: dict | None = None) -> dict[str, Callable]:
    """Load functions you wrote in another notebook (its saved file), without running that notebook.

    The ``import`` statements and simple constants (``GAMMA = 0.99``) of every code cell run first;
    then every ``def`` at the top level of the cells that define ``names`` (helpers defined in the
    same cell come along). Nothing else of the notebook runs: no training, no plots. The functions keep their source code, so that
    :func:`portable` can send them to worker processes.

    Args:
        notebook: path of the ``.ipynb`` file (the saved file: unsaved edits in an open tab are not seen).
        names: the functions to return.
        namespace: where to run the imports and definitions: pass ``globals()`` to use the functions
            in your notebook as if you had run those cells there. Default: a fresh namespace.
    Returns:
        ``{name: function}``. Raises ``LookupError`` naming what was not found.
    """
    path = Path(notebook)
    env: dict[str, Any] = namespace if namespace is not None else {"__name__": "__main__"}
    env.setdefault("__builtins__", builtins)
    for name, statement in (("math", "import math"), ("np", "import numpy as np"), ("torch", "import torch"),
                            ("nn", "from torch import nn"), ("F", "import torch.nn.functional as F")):
        if name not in env:
            exec(statement, env)
    cells = []
    for _, source, _ in code_cells(path):
        # IPython magics (%matplotlib inline, !pip ...) are not Python: blank them, keep line numbers
        source = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines())
        try:
            cells.append((source, ast.parse(source)))
        except SyntaxError:
            continue

    def run(source: str, node: ast.stmt, label: str) -> None:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        snippet = "\n".join(source.splitlines()[first - 1:node.end_lineno]) + "\n"
        filename = f"<{path.name}: {label} #{next(_cell_counter)}>"
        linecache.cache[filename] = (len(snippet), None, snippet.splitlines(True), filename)
        exec(compile(snippet, filename, "exec"), env)
        if isinstance(node, ast.FunctionDef):
            try:
                env[node.name].__course_source__ = snippet
            except AttributeError:  # a decorator that returned something else
                pass

    def is_constant(node: ast.stmt) -> bool:  # NAME = literal, e.g. GAMMA = 0.99
        if not (isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets)):
            return False
        try:
            ast.literal_eval(node.value)
            return True
        except (ValueError, TypeError, SyntaxError, RecursionError):
            return False

    for source, tree in cells:
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)) or is_constant(node):
                try:
                    run(source, node, "import")
                except Exception:  # noqa: BLE001 (an import the student's functions do not need)
                    pass
    wanted, found = set(names), {}
    for source, tree in cells:
        if not {n.name for n in tree.body if isinstance(n, ast.FunctionDef)} & wanted:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                run(source, node, node.name)
                found.setdefault(node.name, env[node.name])
    missing = [n for n in names if n not in found]
    if missing:
        raise LookupError(f"{path.name} defines no function {missing} (is it saved?)")
    return {n: found[n] for n in names}


# ---------------------------------------------------------------------------------- running workers


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
