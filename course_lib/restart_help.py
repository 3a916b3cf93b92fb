"""After a kernel restart, say which cell to run instead of a bare ``NameError``.

A restarted kernel has forgotten every name the notebook defined. The next cell that uses one fails
with ``NameError: name 'Q_toy' is not defined``, which does not say what to do. With this IPython
extension loaded, the same error reads::

    NameError: name 'Q_toy' is not defined
    `Q_toy` is defined in an earlier cell (cell 13, starting 'Q_toy = np.zeros((16, 4))'): after a
    kernel restart, run the cells above first (Run > Run All Above Selected Cell).

It is still one ordinary error output (nothing is written to stderr), so nbgrader grades the cell
exactly as before. The kernel loads the extension at start (before any course cell ran) once
:func:`install` has written the kernel configuration; ``%load_ext course_lib.restart_help`` loads it
by hand.

Finding the notebook: JupyterLab tells the kernel its notebook's path (``JPY_SESSION_NAME``, which
ipykernel 6 also stores as ``__session__``). Without it (nbclient, nbgrader, a console) the
notebooks of the kernel's working folder are searched; when the name cannot be traced to one
notebook, the hint is generic.
"""
from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

from course_lib.reuse import code_cells

EXTENSION = "course_lib.restart_help"
RUN_ABOVE = "Run > Run All Above Selected Cell"
_MARK = "# course_lib.restart_help"


# --- which names a cell defines ------------------------------------------------------------------

def _python_source(source: str) -> str:
    """The cell's source with IPython-only lines (magics, shell escapes) blanked, for ``ast``."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("" if stripped.startswith(("%", "!")) or stripped.endswith("?") else line)
    return "\n".join(lines)


def _bound(target: ast.AST, names: set[str]) -> None:
    if isinstance(target, ast.Name):
        names.add(target.id)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            _bound(elt, names)
    elif isinstance(target, ast.Starred):
        _bound(target.value, names)


def defined_names(source: str) -> set[str]:
    """Names a cell binds at the top level of the notebook (assignments, ``def``, ``class``,
    imports, loop and ``with`` targets, ``:=``); names local to a function or class are not."""
    try:
        tree = ast.parse(_python_source(source))
    except SyntaxError:
        return set()
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(child.name)
                continue  # its body is another scope
            if isinstance(child, ast.Lambda):
                continue
            if isinstance(child, ast.Assign):
                for target in child.targets:
                    _bound(target, names)
            elif isinstance(child, (ast.AugAssign, ast.AnnAssign)):
                _bound(child.target, names)
            elif isinstance(child, (ast.For, ast.AsyncFor, ast.comprehension)):
                _bound(child.target, names)
            elif isinstance(child, ast.withitem) and child.optional_vars is not None:
                _bound(child.optional_vars, names)
            elif isinstance(child, ast.NamedExpr):
                _bound(child.target, names)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                for alias in child.names:
                    if alias.name != "*":
                        names.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(child, ast.ExceptHandler) and child.name:
                names.add(child.name)
            visit(child)

    visit(tree)
    return names


# --- which notebook, which cell -------------------------------------------------------------------

def _code_cells(path: Path) -> list[tuple[int, str]]:
    """``(1-based cell number among all cells, source)`` of each code cell of a notebook file."""
    try:
        return [(index + 1, source) for index, source, _ in code_cells(path)]
    except (OSError, ValueError):
        return []


def session_notebook(user_ns: dict | None = None) -> Path | None:
    """The notebook this kernel runs for, when the front end said so (JupyterLab does)."""
    name = (user_ns or {}).get("__session__") or os.environ.get("JPY_SESSION_NAME")
    if not name or not str(name).endswith(".ipynb"):
        return None
    path = Path(str(name))
    if path.is_absolute():
        return path if path.is_file() else None
    # A path relative to the server's root; the kernel runs in the notebook's folder.
    cwd = Path.cwd()
    for base in [cwd, *cwd.parents]:
        if (base / path).is_file():
            return base / path
    return cwd / path.name if (cwd / path.name).is_file() else None


def candidate_notebooks(user_ns: dict | None = None) -> list[Path]:
    """The session's notebook if known, else the notebooks of the working folder."""
    known = session_notebook(user_ns)
    if known is not None:
        return [known]
    try:
        return sorted(Path.cwd().glob("*.ipynb"))
    except OSError:
        return []


def _first_line(source: str, width: int = 60) -> str:
    line = next((ln.strip() for ln in source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")),
                source.strip().splitlines()[0] if source.strip() else "")
    return line if len(line) <= width else line[: width - 3] + "..."


def find_definitions(name: str, current_source: str | None = None, user_ns: dict | None = None):
    """Where ``name`` is defined: ``(notebook, cell number, cell source, cell number of the running
    cell or None)`` for each candidate notebook that defines it."""
    found = []
    for path in candidate_notebooks(user_ns):
        cells = _code_cells(path)
        defining = [(number, source) for number, source in cells if name in defined_names(source)]
        if not defining:
            continue
        current = None
        if current_source is not None:
            stripped = current_source.strip()
            current = next((number for number, source in cells if source.strip() == stripped), None)
        # the last definition above the running cell, else the first one
        above = [d for d in defining if current is not None and d[0] < current]
        number, source = above[-1] if above else defining[0]
        found.append((path, number, source, current))
    return found


GENERIC = (f"If you restarted the kernel (or reopened the notebook), the cells above have not run "
           f"yet: run them first ({RUN_ABOVE}).")


def hint(name: str, current_source: str | None = None, user_ns: dict | None = None) -> str | None:
    """A sentence saying which cell defines ``name`` and what to run: specific when one notebook
    defines it, generic when the notebook is unknown, None when the notebook is known and nothing
    in it defines the name (a typo, not a restart)."""
    found = find_definitions(name, current_source, user_ns)
    if len(found) != 1:
        return GENERIC if (found or not candidate_notebooks(user_ns)) else None
    path, number, source, current = found[0]
    cell = f"cell {number}, starting '{_first_line(source)}'"
    if current is not None and number > current:
        return f"`{name}` is defined further down ({cell}): run that cell first."
    if current is not None and number == current:
        return None  # used before its own cell defines it: an ordinary bug
    return (f"`{name}` is defined in an earlier cell ({cell}): after a kernel restart, run the cells "
            f"above first ({RUN_ABOVE}).")


def name_error_hint(exc: BaseException, current_source: str | None = None, user_ns: dict | None = None) -> str | None:
    """The hint for a ``NameError`` (None for any other exception, or when there is nothing to say)."""
    name = getattr(exc, "name", None) if isinstance(exc, NameError) else None
    return hint(name, current_source, user_ns) if name else None


# --- the IPython extension ------------------------------------------------------------------------

def _current_cell(shell) -> str | None:
    try:
        history = shell.user_ns.get("In") or shell.history_manager.input_hist_raw
        return history[-1] if history else None
    except Exception:  # noqa: BLE001 - a hint must never break error display
        return None


def _handler(shell, etype, value, tb, tb_offset=None):
    """IPython's custom exception handler for ``NameError``: the usual traceback, with the hint
    appended to the error message (one error output; nothing written to stderr)."""
    try:
        extra = name_error_hint(value, _current_cell(shell), shell.user_ns)
        if extra and value.args and isinstance(value.args[0], str) and extra not in value.args[0]:
            value.args = (f"{value.args[0]}\n{extra}",) + tuple(value.args[1:])
    except Exception:  # noqa: BLE001 - the original error is what matters
        pass
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    return None


def load_ipython_extension(shell) -> None:
    """Register the ``NameError`` handler (``%load_ext course_lib.restart_help``)."""
    if shell.custom_exceptions and shell.custom_exceptions != (NameError,):
        return  # someone else's handler: leave it alone
    shell.set_custom_exc((NameError,), _handler)


def unload_ipython_extension(shell) -> None:
    if shell.custom_exceptions == (NameError,):
        shell.set_custom_exc((), None)
        shell.custom_exceptions = ()


# --- loading it in every kernel of this environment -----------------------------------------------

def config_path(ipython_dir: str | os.PathLike | None = None) -> Path:
    """Where :func:`install` writes: ``{sys.prefix}/etc/ipython/ipython_kernel_config.py`` (read by
    every IPython kernel of this environment), or a profile's ``ipython_kernel_config.py`` under
    ``ipython_dir`` (``$IPYTHONDIR``)."""
    if ipython_dir is not None:
        return Path(ipython_dir) / "profile_default" / "ipython_kernel_config.py"
    return Path(sys.prefix) / "etc" / "ipython" / "ipython_kernel_config.py"


_CONFIG_LINES = (f"{_MARK}: load the restart hints in every kernel (written by course_lib.restart_help.install)\n"
                 f"c.InteractiveShellApp.extensions.append({EXTENSION!r})\n")


def install(ipython_dir: str | os.PathLike | None = None) -> Path:
    """Make every IPython kernel of this environment load the extension at start; idempotent.

    Appends two lines to the kernel configuration file of :func:`config_path` (keeping whatever
    else it holds) and returns its path. Run by the course set-up:
    ``python -c "import course_lib.restart_help as r; r.install()"``.
    """
    path = config_path(ipython_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if _MARK not in text:
        if text and not text.endswith("\n"):
            text += "\n"
        path.write_text(text + _CONFIG_LINES, encoding="utf-8")
    return path


def uninstall(ipython_dir: str | os.PathLike | None = None) -> None:
    """Remove what :func:`install` wrote."""
    path = config_path(ipython_dir)
    if not path.exists():
        return
    kept = [ln for ln in path.read_text(encoding="utf-8").splitlines(keepends=True)
            if _MARK not in ln and EXTENSION not in ln]
    if any(ln.strip() for ln in kept):
        path.write_text("".join(kept), encoding="utf-8")
    else:
        path.unlink()


if __name__ == "__main__":
    print(install())
