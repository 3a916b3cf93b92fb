"""Checks for exercises: types, shapes and values, with messages that say what was expected.

Visible checks in the notebooks and the instructors' hidden checks both use these functions. A failed
check raises ``AssertionError`` whose message names the expected and the received value and, when
the answer matches a known silent bug, which bug it looks like::

    check_close(q_values, expected, "Q", mistakes={"bootstrapped through a terminal state": wrong})

Values are compared element by element in plain Python floats, so a notebook that rebinds numpy's or
torch's comparison functions cannot make a wrong answer pass. Nothing is written to stderr.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping



class _Values:
    """A value flattened to Python floats, with its shape: what every comparison here works on."""

    def __init__(self, flat: list[float], shape: tuple[int, ...]):
        self.flat, self.shape = flat, shape
        self.ndim, self.size = len(shape), len(flat)


def _nested(value: Any) -> tuple[list[float], tuple[int, ...]]:
    if isinstance(value, (list, tuple)):
        parts = [_nested(v) for v in value]
        shapes = {shape for _, shape in parts}
        if len(shapes) > 1:
            raise AssertionError(f"ragged nested sequence: elements have shapes {sorted(shapes)}")
        inner = shapes.pop() if shapes else ()
        return [f for flat, _ in parts for f in flat], (len(parts),) + inner
    return [float(value)], ()


def _values(x: Any) -> _Values:
    """Flatten a number, nested list, numpy array or torch tensor to Python floats.

    Arrays and tensors are read through their types' own C-level ``tolist`` (found on the class,
    not through the ``numpy`` or ``torch`` modules), so rebinding ``np.array``, ``np.allclose`` or
    any other module attribute in a notebook does not change what is compared.
    """
    if isinstance(x, _Values):
        return x
    for klass in type(x).__mro__:
        if klass.__name__ == "TensorBase" and klass.__module__.startswith("torch"):
            x = klass.tolist(klass.detach(x))
            break
        if klass.__module__ == "numpy" and klass.__name__ in ("ndarray", "generic"):
            x = klass.tolist(x)
            break
    flat, shape = _nested(x)
    return _Values(flat, shape)


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of an array, tensor, number or nested list (``()`` for a number)."""
    if hasattr(x, "shape"):
        return tuple(int(d) for d in x.shape)
    return _values(x).shape


def check_type(value: Any, types: type | tuple[type, ...], name: str) -> None:
    """Fail unless ``value`` is an instance of ``types``."""
    if not isinstance(value, types):
        wanted = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        raise AssertionError(f"{name}: expected a {wanted}, got {type(value).__name__} ({value!r:.80})")


def check_shape(value: Any, expected: tuple[int, ...], name: str) -> None:
    """Fail unless ``value`` has exactly ``expected`` shape, naming the classic (N,) vs (N, 1) bug."""
    got = shape_of(value)
    expected = tuple(expected)
    if got == expected:
        return
    hint = ""
    if got == expected + (1,) or expected == got + (1,):
        hint = (" A trailing dimension of 1 is the classic silent bug: (N,) combined with (N, 1) "
                "broadcasts to (N, N). Use .squeeze(-1) or .unsqueeze(-1) deliberately.")
    elif len(got) == len(expected) and got == tuple(reversed(expected)):
        hint = " The axes look swapped."
    raise AssertionError(f"{name}: expected shape {expected}, got {got}.{hint}")


def is_close(actual: Any, expected: Any, atol: float = 1e-6, rtol: float = 1e-5) -> bool:
    """True when shapes agree and every element satisfies |a - e| <= atol + rtol * |e|.

    NaN is never close to anything. Computed in plain Python floats.
    """
    a, e = _values(actual), _values(expected)
    if a.shape != e.shape:
        return False
    for x, y in zip(a.flat, e.flat):
        diff = x - y if x >= y else y - x
        tol = atol + rtol * (y if y >= 0 else -y)
        if not diff <= tol:  # also False for NaN
            return False
    return True


def _preview(x: _Values, limit: int = 8, rows: int = 4) -> str:
    """A value as a student writes it: a number, ``[a, b, ...]``, or rows ``[[a, b], [c, d]]`` for a
    matrix (at most ``rows`` rows of ``limit`` values; the shape is named when cut)."""
    if x.ndim == 0:
        return f"{x.flat[0]:.4g}" if x.flat else ""

    def line(values: list[float]) -> str:
        body = ", ".join(f"{v:.4g}" for v in values[:limit])
        return f"[{body}{', ...' if len(values) > limit else ''}]"

    if x.ndim == 1:
        return line(x.flat)
    width = x.size // x.shape[0] if x.shape[0] else 0
    shown = [line(x.flat[i * width:(i + 1) * width]) for i in range(min(x.shape[0], rows))]
    cut = x.shape[0] > rows or width > limit or x.ndim > 2
    more = ", ..." if x.shape[0] > rows else ""
    note = f" (shape {x.shape}{', inner axes flattened' if x.ndim > 2 else ''})" if cut else ""
    return f"[{', '.join(shown)}{more}]{note}"


def _index(flat_index: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The multi-index of ``flat_index`` in an array of ``shape`` (row-major)."""
    index = []
    for size in reversed(shape):
        flat_index, i = divmod(flat_index, size)
        index.append(i)
    return tuple(reversed(index))


def check_close(actual: Any, expected: Any, name: str, atol: float = 1e-6, rtol: float = 1e-5,
                mistakes: Mapping[str, Any] | None = None, hint: str = "") -> None:
    """Fail unless ``actual`` equals ``expected`` within the tolerances (shape first, then values).

    Args:
        mistakes: ``{description: the value that mistake produces}``; when ``actual`` matches one of
            them, the message says "this looks like: <description>".
        hint: a sentence added to the message when the values differ.
    """
    a, e = _values(actual), _values(expected)
    check_shape(a, e.shape, name)
    if is_close(a, e, atol, rtol):
        return
    for description, wrong in (mistakes or {}).items():
        if is_close(a, wrong, atol, rtol):
            raise AssertionError(f"{name}: this looks like a known mistake: {description}. "
                                 f"Expected {_preview(e)}, got {_preview(a)}.")
    worst = max(range(e.size), key=lambda i: abs(a.flat[i] - e.flat[i])) if e.size else 0
    where = ""
    if e.ndim:
        at = _index(worst, e.shape)
        where = f" (largest difference at index {at[0] if len(at) == 1 else at}: expected " \
                f"{e.flat[worst]:.4g}, got {a.flat[worst]:.4g})"
    raise AssertionError(f"{name}: expected {_preview(e)}, got {_preview(a)}{where}; "
                         f"tolerance atol={atol:g}, rtol={rtol:g}.{(' ' + hint) if hint else ''}")


def check_all(cases: Iterable[tuple[str, Any, Any]], atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """``check_close`` over ``(name, actual, expected)`` triples."""
    for name, actual, expected in cases:
        check_close(actual, expected, name, atol, rtol)


def passed(message: str) -> None:
    """Print a green tick and ``message`` (on stdout)."""
    print(f"\u2714 {message}")
