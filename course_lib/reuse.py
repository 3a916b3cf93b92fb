"""Reuse your own code from an earlier notebook of the same chapter.

A chapter split over several notebooks (``03a_dqn.ipynb`` then ``03b_dqn_improvements.ipynb``)
builds on the pieces written in the first one. Instead of copying them by hand::

    from course_lib.reuse import use_exercises
    use_exercises("03a_dqn.ipynb", globals())

reads that notebook (from the current folder: the one the notebook runs in) and runs, in this
namespace, the *definitions* of

- every exercise cell (your answers, as they are in your copy of the notebook), and
- every cell tagged ``export`` (helpers the notebook provides, such as a network class).

Only ``import``, ``def``, ``class`` and assignments to names at the top level of those cells run;
calls, loops and prints (experiments, checks) are skipped, so nothing is retrained. Nothing here is the
answer to an exercise: what you get is what you wrote.

A later chapter can also use one of your answers from an earlier chapter, without loading anything
else of that notebook into its own namespace (chapter 6's PPO uses your GAE of chapter 4)::

    from course_lib.reuse import exercise_from
    gae_of_one_sequence = exercise_from("../04_policy_gradient/04b_gae_gaussian.ipynb", "gae")
"""
from __future__ import annotations

import ast
import builtins
import itertools
import json
import linecache
import os
from pathlib import Path
from typing import Any, Callable

_cell_counter = itertools.count()

_KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
         ast.Assign, ast.AnnAssign)


def code_cells(notebook: str | Path) -> list[tuple[int, str, dict]]:
    """``(index among all cells, source, metadata)`` of each code cell of a notebook file.

    The file is read as the JSON it is (nbformat 4), without importing ``nbformat``: that import
    alone takes about 2 s (its JSON-schema validator), which every notebook that reuses an earlier
    one would pay at its first cell."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
    out = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            out.append((index, "".join(source) if isinstance(source, list) else str(source), cell.get("metadata", {})))
    return out


def _strip_magics(source: str) -> str:
    """IPython magics and shell escapes (``%matplotlib``, ``!pip``) are not Python: drop them."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _names_only(node: ast.AST) -> bool:
    """An assignment to plain names (``x = ...``, ``a, b = ...``), not to attributes or items."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    flat = []
    for t in targets:
        flat += list(t.elts) if isinstance(t, (ast.Tuple, ast.List)) else [t]
    return all(isinstance(t, ast.Name) for t in flat)


def definitions(source: str) -> ast.Module:
    """The top-level imports, functions, classes and assignments to names of ``source``."""
    tree = ast.parse(_strip_magics(source))
    tree.body = [node for node in tree.body if isinstance(node, _KEEP)
                 and (not isinstance(node, (ast.Assign, ast.AnnAssign)) or _names_only(node))]
    return tree


def use_exercises(notebook: str | Path, namespace: dict, tags: tuple[str, ...] = ("export",),
                  verbose: bool = True) -> list[str]:
    """Define, in ``namespace``, the exercises and ``export``-tagged helpers of ``notebook``.

    Args:
        notebook: path of the notebook, relative to the current folder or absolute.
        namespace: where to define them, usually ``globals()``.
        tags: cells carrying one of these tags are loaded besides the exercise cells.
        verbose: print what was loaded (on stdout) and any cell that could not be loaded.
    Returns:
        The names defined, in order.
    Raises:
        FileNotFoundError: when the notebook is not there, saying where it was looked for.
    """
    path = Path(notebook)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found in {Path.cwd()}: keep the chapter's notebooks "
                                "together in one folder and run this notebook from there")
    names, problems = [], []
    for i, source, meta in code_cells(path):
        wanted = meta.get("nbgrader", {}).get("solution") or set(meta.get("tags", [])) & set(tags)
        if not wanted:
            continue
        try:
            tree = definitions(source)
            exec(compile(tree, f"<{path.name} cell {i}>", "exec"), namespace)  # noqa: S102
        except Exception as exc:  # a broken cell costs only its own definitions
            problems.append(f"cell {i}: {type(exc).__name__}: {exc}")
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    names += [e.id for e in (t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t])]
    if verbose:
        print(f"from {path.name}: {', '.join(dict.fromkeys(names)) or 'nothing'}")
        for p in problems:
            print(f"  could not load {p}")
    return list(dict.fromkeys(names))


def exercise_from(notebook: str | Path, name: str):
    """Your answer ``name`` (an exercise function or class) from another notebook, such as an earlier chapter's.

    It is defined in a namespace of its own, holding that notebook's top-level imports and its exercise
    cells (your answers, as you left them), so nothing of the current notebook is overwritten and
    nothing else of the other notebook runs.

    Args:
        notebook: path of the notebook, relative to the current folder (the one the notebook runs in;
            the course keeps the chapters side by side: ``../04_policy_gradient/04b_gae_gaussian.ipynb``).
        name: the exercise's name.
    Returns:
        The function (or class) as your cell defines it. If you have not written it yet, it raises
        ``NotImplementedError`` when called, as it does in its own notebook.
    Raises:
        FileNotFoundError: the notebook is not there (the message says where it was looked for).
        LookupError: no exercise cell of that notebook defines ``name``.
    """
    path = Path(notebook)
    if not path.is_file():
        if os.environ.get("NBGRADER_EXECUTION"):     # nbgrader grades each chapter on its own
            raise FileNotFoundError(f"{path} is not next to this chapter when it is graded (nbgrader grades each "
                                    f"chapter on its own), so the cells that use your {name} from it stop here")
        raise FileNotFoundError(f"{path} not found in {Path.cwd()}: this notebook uses your {name} from it; keep "
                                "the course's chapter folders side by side, as `./course start` sets them up")
    namespace: dict = {"__name__": f"reuse_{path.stem}"}
    imports = ast.Module(body=[], type_ignores=[])
    for _, source, _ in code_cells(path):
        try:
            imports.body += [node for node in ast.parse(_strip_magics(source)).body
                             if isinstance(node, (ast.Import, ast.ImportFrom))]
        except SyntaxError:
            continue
    exec(compile(imports, f"<{path.name} imports>", "exec"), namespace)  # noqa: S102
    use_exercises(path, namespace, tags=(), verbose=False)
    if name not in namespace:
        raise LookupError(f"no exercise cell of {path.name} defines {name!r}")
    return namespace[name]


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
