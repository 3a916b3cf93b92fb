"""What crosses between the grader and a student's kernel: data only, never pickles.

The grader sends the kernel a request (JSON) and the source of :data:`KERNEL_HELPER`; the helper calls
the student's code and answers with JSON in which arrays travel as dtype + shape + base64 bytes.
The grader decodes answers with :func:`decode`, which accepts only plain numeric dtypes and known
tags: whatever the kernel sends is just "the student's answer", never code.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

# Runs in the student's kernel (and, for local students, in a module namespace). Everything it
# defines is reached through one name; it is sent again with every request, so nothing a notebook
# defines earlier can stand in for it (a notebook can still change the *answer*: that is allowed).
KERNEL_HELPER = r'''
def __verdict_call(request, ask):
    import base64 as b64, json, math
    import numpy as np
    ns = globals()

    def dec(x):
        t = x["t"]
        if t == "nd":
            raw = b64.b64decode(x["b64"])
            return np.frombuffer(raw, dtype=np.dtype(x["dtype"])).reshape(x["shape"]).copy()
        if t == "npscalar":
            return np.frombuffer(b64.b64decode(x["b64"]), dtype=np.dtype(x["dtype"]))[0]
        if t == "float":
            return float(x["v"])
        if t in ("int", "bool", "str", "none"):
            return x.get("v")
        if t == "list":
            return [dec(v) for v in x["v"]]
        if t == "tuple":
            return tuple(dec(v) for v in x["v"])
        if t == "dict":
            return {k: dec(v) for k, v in x["v"]}
        raise ValueError("unknown tag " + str(t))

    def enc(x, depth=0):
        if depth > 20:
            return {"t": "obj", "type": "too deep", "repr": ""}
        k = type(x)
        mods = [c.__module__ for c in k.__mro__]
        if x is None:
            return {"t": "none"}
        if k is bool:
            return {"t": "bool", "v": x}
        if k is int:
            return {"t": "int", "v": x}
        if k is float:
            return {"t": "float", "v": x if math.isfinite(x) else repr(x)}
        if k is str:
            return {"t": "str", "v": x[:10000]}
        if any(m.startswith("torch") for m in mods) and hasattr(x, "detach"):
            a = x.detach().cpu().numpy()
            return {"t": "torch", "dtype": a.dtype.str, "shape": list(a.shape),
                    "b64": b64.b64encode(np.ascontiguousarray(a).tobytes()).decode()}
        if isinstance(x, np.ndarray):
            if x.dtype.kind not in "biuf" or x.nbytes > 50_000_000:
                return {"t": "obj", "type": "ndarray of " + str(x.dtype), "repr": repr(x)[:300]}
            return {"t": "nd", "dtype": x.dtype.str, "shape": list(x.shape),
                    "b64": b64.b64encode(np.ascontiguousarray(x).tobytes()).decode()}
        if isinstance(x, np.generic) and np.asarray(x).dtype.kind in "biuf":
            a = np.asarray(x)
            return {"t": "npscalar", "dtype": a.dtype.str, "b64": b64.b64encode(a.tobytes()).decode()}
        if isinstance(x, (list, tuple)):
            return {"t": "list" if isinstance(x, list) else "tuple", "v": [enc(v, depth + 1) for v in x[:100000]]}
        if isinstance(x, dict):
            return {"t": "dict", "v": [[str(key), enc(v, depth + 1)] for key, v in list(x.items())[:1000]]}
        name = k.__name__
        if name in ("Discrete", "Box", "MultiDiscrete", "MultiBinary"):
            return {"t": "space", "kind": name, "n": enc(getattr(x, "n", None), depth + 1),
                    "start": enc(getattr(x, "start", None), depth + 1),
                    "shape": enc(getattr(x, "shape", None), depth + 1)}
        return {"t": "obj", "type": name, "repr": repr(x)[:300]}

    def raised(e):
        return {"raised": {"ename": type(e).__name__, "evalue": str(e)[:2000]}}

    def stub(dep):
        def reference_piece(*args, **kwargs):
            direct = getattr(ask, "direct", None)  # a local student (no kernel): a plain call
            if direct is not None:
                return direct(dep, args, kwargs)
            reply = ask("\x00verdict:" + json.dumps(
                {"dep": dep, "args": [enc(a) for a in args], "kwargs": [[k, enc(v)] for k, v in kwargs.items()]}))
            answer = json.loads(reply)
            if "raised" in answer:
                raise RuntimeError(answer["raised"]["evalue"])
            return dec(answer["ok"])
        reference_piece.__name__ = dep
        return reference_piece

    req = json.loads(request)
    if req["op"] == "call":
        saved = {d: ns.get(d) for d in req["deps"]}
        try:
            if req["fn"] not in ns:
                raise NameError("name '" + req["fn"] + "' is not defined in the notebook")
            fn = ns[req["fn"]]
            args = [dec(a) for a in req["args"]]
            kwargs = {k: dec(v) for k, v in req["kwargs"]}
            for d in req["deps"]:
                ns[d] = stub(d)
            try:
                value = fn(*args, **kwargs)
            finally:
                for d, old in saved.items():
                    ns[d] = old
            return json.dumps({"ok": enc(value), "args_after": [enc(a) for a in args]})
        except BaseException as e:
            return json.dumps(raised(e))
    if req["op"] == "script":
        out = []
        try:
            if req["cls"] not in ns:
                raise NameError("name '" + req["cls"] + "' is not defined in the notebook")
            obj = ns[req["cls"]](**{k: dec(v) for k, v in req["kwargs"]})
        except BaseException as e:
            return json.dumps({"steps": [raised(e)]})
        for what, arg in req["steps"]:
            try:
                if what == "reset":
                    value = obj.reset(**{k: dec(v) for k, v in arg})
                elif what == "step":
                    value = obj.step(dec(arg))
                else:
                    value = getattr(obj, arg)
                out.append({"ok": enc(value)})
            except BaseException as e:
                out.append(raised(e))
                break
        return json.dumps({"steps": out})
    raise ValueError("unknown op")
'''


@dataclass(frozen=True)
class Opaque:
    """A value the kernel could not send as data (shown by its type and repr)."""
    type: str
    repr: str


@dataclass(frozen=True)
class Space:
    """A Gymnasium space described as data."""
    kind: str
    n: Any = None
    start: Any = None
    shape: Any = None


@dataclass(frozen=True)
class Raised:
    """The student's code raised ``ename: evalue``."""
    ename: str
    evalue: str

    def __str__(self) -> str:
        return f"{self.ename}: {self.evalue}" if self.evalue else self.ename


_DTYPES = {np.dtype(t).str for t in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                                     "uint32", "uint64", "float16", "float32", "float64")}
_DTYPES |= {d.replace("<", ">") for d in _DTYPES}


class WireError(ValueError):
    """An answer that is not well-formed data."""


def _array(x: dict) -> np.ndarray:
    dtype = x.get("dtype")
    if dtype not in _DTYPES:
        raise WireError(f"dtype {dtype!r} is not accepted")
    raw = base64.b64decode(x["b64"], validate=True)
    shape = tuple(int(d) for d in x.get("shape", ()))
    dt = np.dtype(dtype)
    if int(np.prod(shape, dtype=np.int64)) * dt.itemsize != len(raw):
        raise WireError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dt).reshape(shape).copy()


def decode(x: Any, depth: int = 0) -> Any:
    """A kernel's encoded value as Python data (strict: unknown tags and dtypes are rejected)."""
    if depth > 25 or not isinstance(x, dict):
        raise WireError("malformed value")
    t = x.get("t")
    if t == "none":
        return None
    if t == "bool":
        return bool(x["v"])
    if t == "int":
        if type(x["v"]) is not int:
            raise WireError("malformed int")
        return x["v"]
    if t == "float":
        return float(x["v"])
    if t == "str":
        return str(x["v"])
    if t == "nd":
        return _array(x)
    if t == "npscalar":
        return _array({**x, "shape": []})[()]
    if t == "torch":
        import torch
        return torch.from_numpy(_array(x))
    if t in ("list", "tuple"):
        items = [decode(v, depth + 1) for v in x["v"]]
        return items if t == "list" else tuple(items)
    if t == "dict":
        return {str(k): decode(v, depth + 1) for k, v in x["v"]}
    if t == "space":
        return Space(str(x["kind"]), decode(x["n"], depth + 1), decode(x["start"], depth + 1),
                     decode(x["shape"], depth + 1))
    if t == "obj":
        return Opaque(str(x.get("type")), str(x.get("repr")))
    raise WireError(f"unknown tag {t!r}")


def encode(x: Any) -> dict:
    """Encode grader-side data for the kernel (inputs of a call, answers of a reference piece)."""
    if x is None:
        return {"t": "none"}
    if isinstance(x, (bool, np.bool_)):
        return {"t": "bool", "v": bool(x)}
    if isinstance(x, int) and not isinstance(x, bool):
        return {"t": "int", "v": int(x)}
    if isinstance(x, float):
        return {"t": "float", "v": x}
    if isinstance(x, str):
        return {"t": "str", "v": x}
    if isinstance(x, np.ndarray):
        a = np.ascontiguousarray(x)
        return {"t": "nd", "dtype": a.dtype.str, "shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode()}
    if isinstance(x, np.generic):
        a = np.asarray(x)
        return {"t": "npscalar", "dtype": a.dtype.str, "b64": base64.b64encode(a.tobytes()).decode()}
    if isinstance(x, (list, tuple)):
        return {"t": "list" if isinstance(x, list) else "tuple", "v": [encode(v) for v in x]}
    if isinstance(x, dict):
        return {"t": "dict", "v": [[str(k), encode(v)] for k, v in x.items()]}
    raise TypeError(f"cannot send a {type(x).__name__} to a kernel")
