"""Use your own answers from another notebook: name what you take, and its source comes along.

A notebook that builds on an earlier one (``03b`` on ``03a``, chapter 6's PPO on chapter 4's GAE) says
which names it takes, in one line an editor can follow::

    from course_lib.reuse import use_from
    ReplayBuffer, train_dqn = use_from("03a_dqn.ipynb", "ReplayBuffer", "train_dqn")
    gae_of_one_sequence = use_from("../04_policy_gradient/04b_gae_gaussian.ipynb", "gae")

:func:`use_from` reads the saved notebook (the path is relative to the folder the notebook runs in)
and runs, in a namespace of its own (nothing of the current notebook is overwritten):

- the ``import`` statements of every code cell,
- the lines of any cell that take names from a third notebook with ``use_from`` (what the
  notebook reuses comes along; their paths are relative to that notebook's folder), and
- the definitions of its **exercise cells** (your answers, as you left them) and of its cells
  tagged ``export`` (helpers it hands on, such as a network class or a training function):
  ``def``, ``class``, ``import`` and assignments to names at the top level.

Nothing else runs: no training, no plots, no checks. An exercise you have not written yet raises
``NotImplementedError`` when it is called, as in its own notebook. Each statement runs on its own: one
that fails (a broken answer) costs only the names it defines, and a warning says which cell and line.

**The source comes along.** Each cell is registered (with :mod:`linecache`) under a readable name,
``<03a_dqn.ipynb cell 10>`` (cell 10: its index among all the notebook's cells, from 0): a traceback through one of your functions shows its lines, ``inspect``
finds its source, and :func:`course_lib.portable.portable` can send it to worker processes.

Nothing here is the answer to an exercise: what you get is what you wrote.
"""
from __future__ import annotations

import ast
import json
import linecache
import os
import warnings
from pathlib import Path

__all__ = ["use_from", "load_notebook", "code_cells", "definitions"]

_KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
         ast.Assign, ast.AnnAssign)
_loading: list[Path] = []           # the notebooks being loaded now (a notebook that reuses itself, in a cycle)


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
    """IPython magics and shell escapes (``%matplotlib``, ``!pip``) are not Python: blank them (the
    line numbers stay those of the cell)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _assigned_names(node: ast.stmt) -> list[str] | None:
    """The names a top-level statement defines, or None when it assigns to something else
    (an attribute, an item)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    flat = []
    for t in targets:
        flat += list(t.elts) if isinstance(t, (ast.Tuple, ast.List)) else [t]
    return [t.id for t in flat] if all(isinstance(t, ast.Name) for t in flat) else None


def definitions(source: str) -> ast.Module:
    """The top-level imports, functions, classes and assignments to names of ``source``."""
    tree = ast.parse(_strip_magics(source))
    tree.body = [node for node in tree.body if isinstance(node, _KEEP) and _assigned_names(node) is not None]
    return tree


def _is_reuse_line(node: ast.stmt) -> bool:
    """``x = use_from(...)`` or ``a, b = use_from(...)``: a line that takes names from another notebook."""
    if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
        return False
    func = node.value.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return name == "use_from" and _assigned_names(node) is not None


def _register(filename: str, text: str) -> str:
    """Put ``text`` in linecache under ``filename`` (tracebacks and ``inspect`` read it there). If another
    text is there already (the notebook changed since it was last loaded), a new name keeps both."""
    lines = text.splitlines(keepends=True)
    name, version = filename, 1
    while name in linecache.cache and linecache.cache[name][2] != lines:
        version += 1
        name = f"{filename[:-1]}, version {version}>"
    linecache.cache[name] = (len(text), None, lines, name)   # mtime None: linecache.checkcache keeps it
    return name


def _missing_notebook(path: Path, names: tuple[str, ...]) -> FileNotFoundError:
    what = f"your {', '.join(names)}" if names else "its definitions"
    where = _loading[-1].parent if _loading else Path.cwd()
    same_folder = path.parent == Path(".") or (bool(_loading) and path.parent == where)
    if _loading:
        path = Path(os.path.relpath(path, where))
    if os.environ.get("NBGRADER_EXECUTION"):                  # nbgrader grades each chapter on its own
        if same_folder:
            return FileNotFoundError(f"{path} is not in this submission (nbgrader grades a chapter's notebooks "
                                     f"together), so the cells that use {what} from it stop here")
        return FileNotFoundError(f"{path} is not next to this chapter when it is graded (nbgrader grades each "
                                 f"chapter on its own), so the cells that use {what} from it stop here")
    if same_folder:
        return FileNotFoundError(f"{path} not found in {where}: this notebook uses {what} from it; keep the "
                                 "chapter's notebooks together in one folder and run this notebook from there")
    return FileNotFoundError(f"{path} not found in {where}: this notebook uses {what} from it; keep the "
                             "course's chapter folders side by side, as `./course start` sets them up")


def load_notebook(notebook: str | Path, namespace: dict | None = None, tags: tuple[str, ...] = ("export",),
                  cells_defining: tuple[str, ...] = ()) -> dict:
    """Run a notebook's imports, its reuse lines and the definitions of its exercise cells and of its cells
    tagged with one of ``tags``, in ``namespace``; return the namespace.

    Notebooks take names with :func:`use_from`, which loads this way; tools that need the whole
    namespace (the autograder's measurements load a notebook's own answers) call it directly.

    Args:
        notebook: path of the ``.ipynb`` file, relative to the current folder or absolute (the saved
            file: unsaved edits in an open tab are not seen).
        namespace: where to run them (default: a fresh namespace of its own).
        tags: cells with one of these tags are loaded besides the exercise cells.
        cells_defining: the cells whose top-level ``def`` or ``class`` defines one of these names are
            loaded too (a given training function that is neither an exercise nor exported).
    Returns:
        the namespace. Each statement runs on its own: one that fails (a broken answer) costs only
        the names it defines, and is reported with a warning.
    Raises:
        FileNotFoundError: the notebook is not there (the message says where it was looked for and why).
    """
    path = Path(notebook)
    env = namespace if namespace is not None else {"__name__": f"reuse_{path.stem}"}
    _load(path, env, tags, names=(), cells_defining=cells_defining)
    return env


def _load(path: Path, env: dict, tags: tuple[str, ...], names: tuple[str, ...],
          cells_defining: tuple[str, ...] = ()) -> tuple[list[str], dict[str, str]]:
    """Load ``path`` into ``env`` (see :func:`load_notebook`); return the names its loaded cells define, in
    order, and ``{name: why}`` for those whose statement failed."""
    if _loading and not path.is_absolute():    # a use_from line of a notebook being loaded: relative to its folder,
        path = _loading[-1].parent / path        # as when that notebook runs
    if not path.is_file():
        raise _missing_notebook(path, names)
    key = path.resolve()
    if key in _loading:
        raise RecursionError(f"{path.name} takes names from a notebook that takes names from it: "
                             f"{' -> '.join(p.name for p in _loading + [key])}")
    defined: list[str] = []
    failures: dict[str, str] = {}
    broken: list[str] = []
    parsed = []
    for index, source, meta in code_cells(path):
        wanted = bool(meta.get("nbgrader", {}).get("solution")) or bool(set(meta.get("tags", [])) & set(tags))
        label = f"{path.name} cell {index}"
        text = _strip_magics(source)
        try:
            tree = ast.parse(text)
        except SyntaxError as exc:
            if wanted:
                broken.append(f"{label}: SyntaxError: {exc.msg} (line {exc.lineno})")
            continue
        wanted = wanted or any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                                and node.name in cells_defining for node in tree.body)
        parsed.append((label, text, tree, wanted))

    def run(label: str, text: str, node: ast.stmt, loud: bool) -> None:
        filename = _register(f"<{label}>", text + "\n")
        try:   # dont_inherit: not this module's `from __future__ import annotations` (a notebook's dataclass needs real annotations)
            exec(compile(ast.Module(body=[node], type_ignores=[]), filename, "exec", dont_inherit=True), env)  # noqa: S102
        except Exception as exc:  # noqa: BLE001 (a broken statement costs only its own names)
            message = f"{label}, line {node.lineno}: {type(exc).__name__}: {exc}"
            for name in _assigned_names(node) or []:
                failures[name] = message
            if loud:
                broken.append(message)
            return
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.extend(_assigned_names(node) or [])

    _loading.append(key)
    try:
        for label, text, tree, wanted in parsed:            # 1. the imports of every cell
            for node in tree.body:
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    run(label, text, node, loud=wanted)
        for label, text, tree, wanted in parsed:            # 2. reuse lines, 3. exercise and export definitions
            for node in tree.body:
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    continue
                if _is_reuse_line(node) or (wanted and isinstance(node, _KEEP) and _assigned_names(node) is not None):
                    run(label, text, node, loud=True)
    finally:
        _loading.remove(key)
    for message in broken:
        warnings.warn(f"could not load {message}", stacklevel=4)
    return list(dict.fromkeys(defined)), failures


def use_from(notebook: str | Path, *names: str):
    """Names defined by another notebook: your answers, and the helpers it exports.

    ::

        mlp, as_tensor = use_from("04a_reinforce.ipynb", "mlp", "as_tensor")
        gae_of_one_sequence = use_from("../04_policy_gradient/04b_gae_gaussian.ipynb", "gae")

    Args:
        notebook: path of the notebook, relative to the folder this notebook runs in (a chapter's
            notebooks sit in one folder; the course keeps the chapter folders side by side).
        *names: what to take: functions, classes or values defined by its exercise cells or by its
            cells tagged ``export``. Ask for all of them in one call: each call loads the notebook
            afresh (from its saved file), in a namespace of its own.
    Returns:
        the object for one name; a tuple in the order asked for several.
    Raises:
        FileNotFoundError: the notebook is not there (the message says where it was looked for, and,
            when nbgrader grades a chapter on its own, that the cells using it stop there).
        LookupError: the notebook defines no such name in an exercise or ``export`` cell; or the
            statement defining it failed (the message gives the cell, line and error).
    """
    if not names:
        raise TypeError("use_from(notebook, *names): name what you take, e.g. use_from('03a_dqn.ipynb', 'train_dqn')")
    path = Path(notebook)
    env: dict = {"__name__": f"reuse_{path.stem}"}
    defined, failures = _load(path, env, ("export",), names)
    found = []
    for name in names:
        if name not in env and name in failures:
            raise LookupError(f"{name} of {path.name} could not be loaded: {failures[name]}")
        if name not in env or name.startswith("__"):
            raise LookupError(f"{path.name} defines no {name!r} in an exercise cell or a cell tagged export "
                              f"(those define {', '.join(defined) or 'nothing'})")
        found.append(env[name])
    return found[0] if len(names) == 1 else tuple(found)
