"""What crosses between the grader and a student's kernel: data only, never pickles.

The grader sends the kernel a request (JSON) and the source of :data:`KERNEL_HELPER`; the helper calls
the student's code and answers with JSON in which arrays travel as dtype + shape + base64 bytes.
The grader decodes answers with :func:`decode`, which accepts only plain numeric dtypes and known
tags: whatever the kernel sends is just "the student's answer", never code.

What a hidden check can send (all described as data, built by the helper in the kernel): numbers,
strings, arrays, lists/tuples/dicts, torch tensors (``requires_grad`` kept), :class:`Rng` (a numpy
Generator), :class:`Net` (an MLP), :class:`Optim` (an optimizer over a Net argument), :class:`Loss`
(a loss whose graph reaches a Net argument), :class:`Record` (a namedtuple such as a ``Batch``),
Gymnasium spaces, and :class:`Callback` / :class:`Proxy` (grader-side functions and objects, such
as spy environments, that the student's code calls back during the request). What comes back:
the same data kinds, tensors with ``requires_grad`` and leaf gradients, and torch modules as
:class:`Module` (parameters and gradients).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

# Runs in the student's kernel (and, for local students, in a module namespace). Everything it
# defines is reached through one name. It is compiled once per kernel; a notebook that rebinds it
# changes only its own answers, which the grader decodes strictly and judges (that is allowed).
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
        if t == "torch":
            import torch
            raw = b64.b64decode(x["b64"])
            a = np.frombuffer(raw, dtype=np.dtype(x["dtype"])).reshape(x["shape"]).copy()
            return torch.from_numpy(a).requires_grad_(bool(x.get("rg")))
        if t == "rng":
            return np.random.default_rng(int(x["seed"]))
        if t == "record":
            import collections
            keys = [k for k, _ in x["v"]]
            cls = records.setdefault((x["name"], tuple(keys)), collections.namedtuple(x["name"], keys))
            return cls(*[dec(v) for _, v in x["v"]])
        if t == "mlp":
            import torch
            from torch import nn
            torch.manual_seed(int(x["seed"]))
            act = {"relu": nn.ReLU, "tanh": nn.Tanh}[x["act"]]
            sizes = [int(n) for n in x["sizes"]]
            layers = []
            for i in range(len(sizes) - 1):
                layers.append(nn.Linear(sizes[i], sizes[i + 1]))
                if i < len(sizes) - 2:
                    layers.append(act())
            net = nn.Sequential(*layers)
            if x.get("unused"):
                net.unused = nn.Parameter(torch.zeros(1))  # a parameter no loss reaches
            if x.get("state") is not None:
                net.load_state_dict({k: dec(v).detach() for k, v in x["state"]}, strict=False)
            if x.get("shared"):
                net.share_memory()
            if x.get("grads") is not None:  # gradients left by an earlier update (stale ones included)
                grads = {k: v for k, v in x["grads"]}
                for name, p in net.named_parameters():
                    g = dec(grads[name]) if name in grads else None
                    p.grad = None if g is None else g.detach().clone()
            return net
        if t == "space":
            import gymnasium as gym
            if x["kind"] == "Discrete":
                return gym.spaces.Discrete(int(dec(x["n"])), start=int(dec(x["start"]) or 0))
            return gym.spaces.Box(dec(x["low"]), dec(x["high"]), dtype=np.float32)
        if t == "fn":
            return callback(x["id"], None)
        if t == "proxy":
            methods = {m: (lambda m: lambda self, *a, **k: callback(x["id"], m)(*a, **k))(m) for m in x["methods"]}
            obj = type(str(x["name"]), (), {"__module__": "grader", **methods})()
            for k, v in x["attrs"]:
                setattr(obj, k, dec(v))
            return obj
        if t in ("optim", "loss"):  # resolved by decode_args() once the network they use exists
            return x
        raise ValueError("unknown tag " + str(t))

    def decode_args(encoded):
        out = [dec(a) for a in encoded]
        for i, a in enumerate(out):
            if isinstance(a, dict) and a.get("t") == "optim":
                import torch
                kind = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam}[a["kind"]]
                out[i] = kind(out[int(a["of"])].parameters(), lr=float(a["lr"]),
                              **{k: dec(v) for k, v in a["kw"]})
            elif isinstance(a, dict) and a.get("t") == "loss":
                out[i] = (out[int(a["of"])](dec(a["inputs"])) - dec(a["targets"])).pow(2).mean()
        return out

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
            out = {"t": "torch", "dtype": a.dtype.str, "shape": list(a.shape), "rg": bool(x.requires_grad),
                   "b64": b64.b64encode(np.ascontiguousarray(a).tobytes()).decode()}
            if x.is_leaf and x.grad is not None:
                out["g"] = enc(x.grad, depth + 1)
            return out
        if any(m.startswith("torch.nn") for m in mods) and hasattr(x, "named_parameters"):
            params = list(x.named_parameters())[:200]
            return {"t": "module", "state": [[n, enc(p, depth + 1)] for n, p in params],
                    "grads": [[n, enc(p.grad, depth + 1)] for n, p in params],
                    "shared": [[n, {"t": "bool", "v": bool(p.is_shared())}] for n, p in params],
                    "ptr": [[n, {"t": "int", "v": int(p.data_ptr())}] for n, p in params]}
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

    def callback(cid, method):
        def grader_function(*args, **kwargs):
            reply = ask("\x00verdict:" + json.dumps(
                {"cb": cid, "method": method, "args": [enc(a) for a in args],
                 "kwargs": [[k, enc(v)] for k, v in kwargs.items()]}))
            answer = json.loads(reply)
            if "raised" in answer:
                raise RuntimeError(answer["raised"]["evalue"])
            return dec(answer["ok"])
        return grader_function

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

    records = {}
    req = json.loads(request)
    if req.get("seed") is not None:
        import random
        random.seed(int(req["seed"]))
        np.random.seed(int(req["seed"]))
        import torch
        torch.manual_seed(int(req["seed"]))
    if req["op"] == "call":
        saved = {d: ns.get(d) for d in req["deps"]}
        try:
            if req["fn"] not in ns:
                raise NameError("name '" + req["fn"] + "' is not defined in the notebook")
            fn = ns[req["fn"]]
            args_in = decode_args(list(req["args"]) + [v for _, v in req["kwargs"]])
            args_, kwargs = args_in[:len(req["args"])], dict(zip([k for k, _ in req["kwargs"]], args_in[len(req["args"]):]))
            for d in req["deps"]:
                ns[d] = stub(d)
            try:
                for _ in range(max(1, int(req.get("repeat") or 1))):
                    value = fn(*args_, **kwargs)
                if req.get("backward"):
                    loss = value[0] if isinstance(value, (tuple, list)) and value else value
                    if req["backward"] == "sum" and getattr(loss, "requires_grad", False):
                        loss = loss.sum()
                    if getattr(loss, "requires_grad", False) and getattr(loss, "ndim", 1) == 0:
                        loss.backward()
            finally:
                for d, old in saved.items():
                    ns[d] = old
            return json.dumps({"ok": enc(value), "args_after": [enc(a) for a in args_]})
        except BaseException as e:
            return json.dumps(raised(e))
    if req["op"] == "script":
        out = []
        try:
            if req["cls"] not in ns:
                raise NameError("name '" + req["cls"] + "' is not defined in the notebook")
            kw = decode_args([v for _, v in req["kwargs"]])
            obj = ns[req["cls"]](**dict(zip([k for k, _ in req["kwargs"]], kw)))
        except BaseException as e:
            return json.dumps({"steps": [raised(e)]})
        for what, arg in req["steps"]:
            try:
                if what == "reset":
                    value = obj.reset(**{k: dec(v) for k, v in arg})
                elif what == "step":
                    value = obj.step(dec(arg))
                elif what == "call":
                    method, a_enc, k_enc = arg
                    a = decode_args(list(a_enc) + [v for _, v in k_enc])
                    value = getattr(obj, method)(*a[:len(a_enc)], **dict(zip([k for k, _ in k_enc], a[len(a_enc):])))
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


@dataclass(frozen=True)
class Rng:
    """Sent as ``np.random.default_rng(seed)`` in the kernel."""
    seed: int


@dataclass
class Net:
    """Sent as ``nn.Sequential(Linear, act, ..., Linear)`` with ``sizes`` (input, hidden..., output),
    built after ``torch.manual_seed(seed)``, or loaded from ``state`` (parameter name -> array).
    ``grads`` (parameter name -> array or None) are set as the parameters' ``.grad`` after that: a
    network as an earlier update left it, so a sequence of calls sees its stale gradients."""
    sizes: tuple
    activation: str = "relu"
    seed: int = 0
    state: dict | None = None
    shared: bool = False   # in shared memory (``share_memory()``), as A3C's shared model
    unused: bool = False   # with an extra parameter ``unused`` that no loss reaches
    grads: dict | None = None


@dataclass
class Optim:
    """Sent as a torch optimizer (``"SGD"`` or ``"Adam"``) over the parameters of the call's
    argument number ``of`` (a :class:`Net`)."""
    kind: str
    of: int
    lr: float
    kwargs: dict = field(default_factory=dict)


@dataclass
class Loss:
    """Sent as the tensor ``((net(inputs) - targets) ** 2).mean()``, where ``net`` is the call's
    argument number ``of``: a loss whose graph reaches that network's parameters."""
    of: int
    inputs: Any
    targets: Any


@dataclass
class Record:
    """Sent as an instance of ``namedtuple(name, fields)`` (a notebook's ``Batch``, for example)."""
    name: str
    fields: dict


@dataclass
class Callback:
    """A grader-side function the student's code may call during the request (its arguments and
    result cross as data)."""
    fn: Callable


@dataclass
class Proxy:
    """A grader-side object (a spy environment, for example): the student's code gets an object
    whose ``methods`` call back to ``obj`` and whose ``attrs`` are data (spaces included)."""
    obj: Any
    methods: tuple
    attrs: dict = field(default_factory=dict)


class Module(dict):
    """A torch module in an answer: ``{"state": {name: array}, "grads": {name: array or None},
    "shared": {name: in shared memory}, "ptr": {name: data address}}`` (addresses tell whether two
    modules of one call share storage)."""


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
        tensor = torch.from_numpy(_array(x))
        if x.get("rg") and tensor.is_floating_point():
            tensor.requires_grad_(True)
            if "g" in x:
                grad = decode(x["g"], depth + 1)
                if isinstance(grad, torch.Tensor) and grad.shape == tensor.shape:
                    tensor.grad = grad.to(tensor.dtype)
        return tensor
    if t == "module":
        return Module(state={str(k): decode(v, depth + 1).detach().numpy() for k, v in x["state"]},
                      grads={str(k): _grad(decode(v, depth + 1)) for k, v in x["grads"]},
                      shared={str(k): bool(decode(v, depth + 1)) for k, v in x.get("shared", [])},
                      ptr={str(k): int(decode(v, depth + 1)) for k, v in x.get("ptr", [])})
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


def _grad(x):
    return None if x is None else x.detach().numpy()


def _tensor(x) -> dict:
    a = x.detach().cpu().numpy()  # tobytes() is C order; the shape is the tensor's (0-d stays 0-d)
    return {"t": "torch", "dtype": a.dtype.str, "shape": list(a.shape), "rg": bool(x.requires_grad),
            "b64": base64.b64encode(a.tobytes()).decode()}


def encode(x: Any, callbacks: list | None = None) -> dict:
    """Encode grader-side data for the kernel (inputs of a call, answers of a reference piece).
    :class:`Callback` and :class:`Proxy` values are appended to ``callbacks`` (their index is the
    id the kernel calls back with)."""
    enc = lambda v: encode(v, callbacks)  # noqa: E731
    if type(x).__module__.startswith("torch") and hasattr(x, "detach"):
        return _tensor(x)
    if isinstance(x, Rng):
        return {"t": "rng", "seed": int(x.seed)}
    if isinstance(x, Net):
        state = None if x.state is None else [[k, _tensor(_as_tensor(v))] for k, v in x.state.items()]
        grads = None if x.grads is None else [[k, {"t": "none"} if v is None else _tensor(_as_tensor(v))]
                                               for k, v in x.grads.items()]
        return {"t": "mlp", "sizes": [int(n) for n in x.sizes], "act": x.activation, "seed": int(x.seed),
                "state": state, "shared": bool(x.shared), "unused": bool(x.unused), "grads": grads}
    if isinstance(x, Optim):
        return {"t": "optim", "kind": x.kind, "of": int(x.of), "lr": float(x.lr),
                "kw": [[k, enc(v)] for k, v in x.kwargs.items()]}
    if isinstance(x, Loss):
        return {"t": "loss", "of": int(x.of), "inputs": enc(x.inputs), "targets": enc(x.targets)}
    if isinstance(x, Record):
        return {"t": "record", "name": x.name, "v": [[k, enc(v)] for k, v in x.fields.items()]}
    if isinstance(x, (Callback, Proxy)):
        if callbacks is None:
            raise TypeError("callbacks can only be sent with a call")
        callbacks.append(x)
        if isinstance(x, Callback):
            return {"t": "fn", "id": len(callbacks) - 1}
        return {"t": "proxy", "id": len(callbacks) - 1, "name": type(x.obj).__name__,
                "methods": list(x.methods), "attrs": [[k, enc(v)] for k, v in x.attrs.items()]}
    if isinstance(x, Space) or type(x).__name__ in ("Discrete", "Box"):
        kind = x.kind if isinstance(x, Space) else type(x).__name__
        out = {"t": "space", "kind": kind, "n": enc(getattr(x, "n", None)), "start": enc(getattr(x, "start", None)),
               "shape": enc(getattr(x, "shape", None))}
        if kind == "Box":
            out["low"], out["high"] = enc(np.asarray(x.low)), enc(np.asarray(x.high))
        return out
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
    if isinstance(x, np.ndarray):  # tobytes() is C order; the shape is the array's (0-d stays 0-d)
        return {"t": "nd", "dtype": x.dtype.str, "shape": list(x.shape), "b64": base64.b64encode(x.tobytes()).decode()}
    if isinstance(x, np.generic):
        a = np.asarray(x)
        return {"t": "npscalar", "dtype": a.dtype.str, "b64": base64.b64encode(a.tobytes()).decode()}
    if isinstance(x, (list, tuple)):
        return {"t": "list" if isinstance(x, list) else "tuple", "v": [enc(v) for v in x]}
    if isinstance(x, dict):
        return {"t": "dict", "v": [[str(k), enc(v)] for k, v in x.items()]}
    raise TypeError(f"cannot send a {type(x).__name__} to a kernel")


def _as_tensor(v):
    import torch
    return v if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v))
