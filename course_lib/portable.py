"""Send a function defined in a notebook to worker processes, under any start method.

A worker process receives its function by pickling, and a function is pickled *by name*: the child
imports it. With ``fork`` (the Linux default up to Python 3.13) the child is a copy of the running
notebook and finds it there; with ``spawn`` (macOS, Windows) and ``forkserver`` (the Linux default from
Python 3.14) the child is a fresh interpreter, and a function defined in a notebook cannot be imported.
:func:`portable` sends the function's *source code* instead (with the source of the notebook functions
it calls, the imports it uses and the constants it reads), and the child executes it::

    from course_lib.portable import portable
    from course_lib.workers import run_workers

    result = run_workers(portable(my_worker), n_workers=2, args=(model, optimizer, config))

Functions loaded from another notebook with :func:`course_lib.reuse.use_from` keep their source, so
they travel the same way. A class defined in the notebook cannot travel, with one exception: a dataclass
that holds fields only (a typed config, :mod:`course_lib.hyperparams`) is rebuilt in the child from its
fields, so ``train_a2c(config=A2CConfig())`` can run in spawned workers.
"""
from __future__ import annotations

import ast
import builtins
import dataclasses
import dis
import importlib
import inspect
import itertools
import linecache
import pickle
import textwrap
import types
from typing import Any, Callable

__all__ = ["portable", "Portable"]

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
            exec(compile(source, filename, "exec", dont_inherit=True), namespace)
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
            elif isinstance(obj, type) and _plain_dataclass(obj):
                values[name] = pickle.dumps(_DataclassRecipe(obj))   # a config class: rebuilt from its fields
            elif isinstance(obj, type):
                raise ValueError(f"portable: {f.__name__!r} uses the class {name!r}, defined in the notebook: "
                                 "a worker started with spawn cannot import it. Use a class from a module "
                                 "(course_lib.networks.ActorCritic, ...) or pass what you need as arguments "
                                 "(a dataclass with fields only, such as a config, is sent).")
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


_GENERATED = "<string>"   # the file name of the methods @dataclass writes (__init__, __repr__, __eq__...)


def _plain_dataclass(cls: type) -> bool:
    """True for a dataclass whose class body holds fields only (a typed config): no method, property or
    class attribute of its own, so that its fields say everything about it."""
    if not dataclasses.is_dataclass(cls):
        return False
    names = {f.name for f in dataclasses.fields(cls)}
    for key, value in vars(cls).items():
        if key.startswith("__") or key in names:
            continue
        return False                     # a method, property or constant of its own: not rebuilt from fields
    return all(value.__code__.co_filename in (_GENERATED, dataclasses.__file__)   # written by @dataclass
               for key, value in vars(cls).items() if isinstance(value, types.FunctionType))


def _rebuild_dataclass(name: str, fields: list, frozen: bool, doc: str | None) -> type:
    """The class of :class:`_DataclassRecipe`, made again in the worker with ``dataclasses.make_dataclass``."""
    specs = [(n, t, dataclasses.field(default=d) if has_default else dataclasses.field()) for n, t, has_default, d in fields]
    cls = dataclasses.make_dataclass(name, specs, frozen=frozen, namespace={"__doc__": doc})
    cls.__module__ = _PORTABLE_MODULE
    return cls


class _DataclassRecipe:
    """A notebook dataclass as pickle can send it: its name, fields (name, annotation, default), frozen flag and
    docstring; unpickling makes the class again (:func:`_rebuild_dataclass`)."""

    def __init__(self, cls: type):
        fields = []
        for f in dataclasses.fields(cls):
            if f.default_factory is not dataclasses.MISSING:
                raise ValueError(f"portable: the dataclass {cls.__name__!r} has a default_factory for {f.name!r}; "
                                 "give it a plain default (a tuple instead of a list) to send it to workers")
            has_default = f.default is not dataclasses.MISSING
            try:                          # the annotation as it is (float, float | None), or as text
                annotation = pickle.loads(pickle.dumps(f.type))
            except Exception:  # noqa: BLE001
                annotation = f.type if isinstance(f.type, str) else repr(f.type)
            fields.append((f.name, annotation, has_default, f.default if has_default else None))
        self.args = (cls.__name__, fields, cls.__dataclass_params__.frozen, cls.__doc__)

    def __reduce__(self):
        return _rebuild_dataclass, self.args
