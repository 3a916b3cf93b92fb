"""Hidden checks of chapter 03 (instructors only), run by the grader outside the student's kernel.

The reference of every exercise is the instructor's solution cell, extracted into
``solution_03_dqn.py`` (``python -m autograder.verdict.extract 03_dqn``). This file holds what is
*not* the solution: seeded inputs (networks, batches, transitions), the probes of each exercise
(hand-worked sequences and random cases, compared with the reference), and the registry of known
mistakes, each written once as an edit of the solution.

Notebook 03a: ReplayBuffer, linear_epsilon, td_target, huber_loss, dqn_update, dqn_step.
Notebook 03b: double_dqn_target, dueling_aggregate, SumTree, importance_weights.

dqn_update calls the student's huber_loss. A reference piece crosses as data (a tensor without the
graph that reaches the network), so it cannot stand in for huber_loss inside a gradient step;
instead each dqn_update probe also asks the student's huber_loss about a fixed battery of errors:
where it disagrees with the reference (a huber_loss mistake, graded by its own exercise), dqn_update
is judged on what does not depend on the Huber loss (TD errors, the loss as the weighted mean of the
student's own huber_loss, a step taken in the right order, inputs untouched).

dqn_step (one environment step of the training loop) is watched call by call: a scripted spy
environment (episodes that end terminated, truncated or both), a spy buffer and a spy ``learn``
live on the grader's side (``wire.Proxy``, ``wire.Callback``), the network is frozen, and each call
gets a generator whose seed puts its first draw just below or above epsilon. It calls the student's
linear_epsilon, whose answer is a float: the reference's stands in for it during these checks.
"""
from __future__ import annotations

import numpy as np
import torch

from autograder.verdict.core import Exercise, Mistake, Probe, StudentRaised, diff
from autograder.verdict.wire import Callback, Net, Optim, Proxy, Raised, Record, Rng

CHAPTER = "03_dqn"
PREAMBLE = '''import copy
from collections import namedtuple

import numpy as np
import torch
import torch.nn as nn

# Given in 03a (not an exercise): the batch of transitions the replay buffer returns.
Batch = namedtuple("Batch", "obs actions rewards next_obs terminated truncated weights indices",
                   defaults=(None, None))'''

FIELDS = ("obs", "actions", "rewards", "next_obs", "terminated", "truncated")

# ---------------------------------------------------------------- inputs


def net_state(rng: np.random.Generator, sizes, scale: float = 1.0) -> dict:
    """Parameters of ``wire.Net(sizes)`` (names of an nn.Sequential with activations between)."""
    state = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        state[f"{2 * i}.weight"] = (rng.normal(size=(n_out, n_in)) * scale / np.sqrt(n_in)).astype(np.float32)
        state[f"{2 * i}.bias"] = (rng.normal(size=n_out) * 0.3 * scale).astype(np.float32)
    return state


def make_net(rng, sizes, scale=1.0, activation="tanh") -> Net:
    return Net(tuple(sizes), activation=activation, state=net_state(rng, sizes, scale))


def random_batch(rng: np.random.Generator, B: int, obs_dim: int = 4, n_actions: int = 3) -> dict:
    """Fields of a Batch of seeded transitions mixing terminated, truncated and ongoing steps."""
    terminated = (rng.random(B) < 0.3).astype(np.float32)
    truncated = ((rng.random(B) < 0.3) & (terminated == 0)).astype(np.float32)
    if B >= 3:  # at least one of each kind
        terminated[:3], truncated[:3] = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]
    return {"obs": torch.as_tensor(rng.normal(size=(B, obs_dim)), dtype=torch.float32),
            "actions": torch.as_tensor(rng.integers(0, n_actions, size=B), dtype=torch.int64),
            "rewards": torch.as_tensor(rng.normal(size=B), dtype=torch.float32),
            "next_obs": torch.as_tensor(rng.normal(size=(B, obs_dim)), dtype=torch.float32),
            "terminated": torch.as_tensor(terminated), "truncated": torch.as_tensor(truncated),
            "weights": None, "indices": None}


def record(fields: dict) -> Record:
    return Record("Batch", dict(fields))


# ---------------------------------------------------------------- traces


def _tensor(x) -> tuple:
    """A result as (kind, shape, requires_grad, float64 values)."""
    if isinstance(x, torch.Tensor):
        return (f"torch.{str(x.dtype).split('.')[-1]}", tuple(x.shape), bool(x.requires_grad),
                x.detach().double().numpy())
    if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
        return (f"numpy {x.dtype}", x.shape, False, x.astype(np.float64))
    return (type(x).__name__, None, False, None)


def _changed(before, after) -> bool:
    """Whether a tensor, a record's fields or a module's parameters differ after the call."""
    if before is None:
        return after is not None
    if isinstance(before, Record):
        fields = list(before.fields.values())
        return not isinstance(after, tuple) or len(after) != len(fields) or any(
            _changed(b, a) for b, a in zip(fields, after))
    if isinstance(before, Net):
        return any(not np.array_equal(before.state[k], after["state"].get(k)) for k in before.state)
    if isinstance(before, torch.Tensor):
        return not isinstance(after, torch.Tensor) or not torch.equal(before.detach(), after.detach())
    return diff(after, before, 0.0, 0.0) is not None


def _first_problem(label: str, checks) -> str | None:
    """``checks``: (what, got, expected, atol, message or None) in the order they are judged."""
    for what, g, e, atol, message in checks:
        problem = diff(g, e, atol, atol, what)
        if problem:
            return f"{label}: {message}" if message else f"{label}: {problem}"
    return None


def _tensor_checks(what: str, got: tuple, expected: tuple, atol: float, sign_hint: str = "") -> list:
    return [(f"{what} (its type)", got[0], expected[0], 0,
             f"{what} must be a {expected[0]} tensor, got {got[0]}"),
            (f"{what} (its shape)", got[1], expected[1], 0,
             f"{what} must have shape {expected[1]}, got {got[1]}"),
            (f"{what} (values)", got[3], expected[3], atol, None)]


def _no_grad_check(what: str, got: tuple, expected: tuple) -> list:
    return [(f"{what} requires_grad", got[2], expected[2], 0,
             f"{what} carries gradient (requires_grad=True): compute it under torch.no_grad() or "
             ".detach() it; otherwise the loss's gradient also flows into the network that made it")
            if not expected[2] else
            (f"{what} requires_grad", got[2], expected[2], 0,
             f"{what} must stay differentiable (no .detach(), .item(), numpy or torch.tensor(...) inside)")]


def _inputs_check(got: list, expected: list) -> list:
    return [("inputs changed", got, expected, 0,
             f"changed {', '.join(got) if got else 'nothing'} in place (the caller's data must not change)")]


# ---------------------------------------------------------------- ReplayBuffer


def _transition(k: int, obs_dim: int):
    """Transition number k of the buffer checks: every field encodes k (reward k + 1)."""
    obs = np.full(obs_dim, float(k), dtype=np.float32) + np.arange(obs_dim, dtype=np.float32) / 10
    return [obs, k % 3, float(k + 1), obs + 100.0, k % 2 == 1, k % 3 == 0]


def _batch(x):
    """A Batch answer as plain data: each of the six fields as (kind, shape, values); weights and
    indices must be None."""
    if isinstance(x, Raised):
        return x
    if not isinstance(x, tuple) or len(x) < 6:
        return f"not a Batch: {type(x).__name__}"
    out = {f: _tensor(v)[:2] + (_tensor(v)[3],) for f, v in zip(FIELDS, x)}
    out["weights, indices"] = tuple(x[6:8]) if len(x) >= 8 else "missing"
    return out


def _script_probe(label, kwargs, steps, cls="ReplayBuffer", norm=None, atol=1e-6, hint=""):
    def run(s):
        out = s.script(cls, kwargs, steps)
        return [norm(step, x) if norm else x for step, x in zip(steps, out)]

    def compare(got, expected):
        done = []
        for i, (step, g, e) in enumerate(zip(steps, got, expected)):
            what = _describe(step)
            problem = diff(g, e, atol, atol, what)
            if problem:
                before = f" (after {', '.join(done[-4:])}{' ...' if len(done) > 4 else ''})" if done else ""
                return f"{label}: step {i + 1}{before}: {problem}{hint}"
            done.append(what)
        if len(got) != len(expected):
            return f"{label}: expected {len(expected)} results, got {len(got)}"
        return None
    def key(trace):  # what a sample draws may depend on np.random's state: only its form must agree
        if not isinstance(trace, list):
            return trace
        return [_form(x) if step[0] == "call" and step[1][0] == "sample" else x for step, x in zip(steps, trace)]
    return Probe(label, run, compare, key=key, atol=atol, rtol=atol)


def _form(batch):
    if not isinstance(batch, dict):
        return batch
    return {k: v[:2] if isinstance(v, tuple) and len(v) == 3 else v for k, v in batch.items()}


def _describe(step) -> str:
    what, arg = step
    if what == "attr":
        return f".{arg}"
    method, args = arg[0], arg[1]
    if method == "add":
        return f"add(transition with reward {args[2]:g})"
    shown = ", ".join(_short(a) for a in args)
    return f"{'len(buf)' if method == '__len__' else method + '(' + shown + ')'}"


def _short(a) -> str:
    if isinstance(a, np.ndarray):
        items = ", ".join(f"{v:g}" for v in a.ravel()[:6])
        return f"[{items}{', ...' if a.size > 6 else ''}]"
    return repr(a)


def _buffer_norm(step, x):
    if isinstance(x, Raised):
        return x
    method = step[1][0] if step[0] == "call" else step[1]
    if method in ("get", "sample"):
        return _batch(x)
    if method == "__len__":
        return x if isinstance(x, (int, np.integer)) and not isinstance(x, bool) else f"not an int: {x!r:.40}"
    return None  # add's return value is not part of the contract


def _adds(ks, obs_dim):
    return [("call", ("add", _transition(k, obs_dim))) for k in ks]


LEN = ("call", ("__len__", []))


def probes_ReplayBuffer() -> list[Probe]:
    probes = []
    for obs_dim in (1, 4):
        steps = [LEN] + _adds(range(2), obs_dim) + [LEN] + _adds(range(2, 10), obs_dim) + [
            LEN, ("call", ("get", [np.arange(4)])), ("call", ("get", [np.array([3, 0, 3])])),
            ("call", ("get", [np.array([2])])), ("call", ("sample", [1]))]
        probes.append(_script_probe(
            f"ReplayBuffer(capacity=4, obs_dim={obs_dim}, seed=0): 10 adds (transition k has reward k + 1 and "
            "lives in slot k % 4), len, get and sample", {"capacity": 4, "obs_dim": obs_dim, "seed": 0}, steps,
            norm=_buffer_norm))
    # wrap-around seen at every step: len and every slot after each add
    steps = []
    for k in range(8):
        steps += _adds([k], 2) + [LEN, ("call", ("get", [np.arange(3)]))]
    probes.append(_script_probe("ReplayBuffer(capacity=3, obs_dim=2): len and all three slots after each of 8 adds",
                                {"capacity": 3, "obs_dim": 2, "seed": 1}, steps, norm=_buffer_norm))
    # sampling: a sequence of samples, interleaved with adds, exactly as self.rng draws them
    steps = _adds(range(5), 3) + [("call", ("sample", [7])), ("call", ("sample", [1]))] + _adds(range(5, 13), 3) + \
        [("call", ("sample", [16])), LEN, ("call", ("sample", [16]))]
    probes.append(_script_probe(
        "ReplayBuffer(capacity=10, obs_dim=3, seed=11): samples between adds (the same seed draws the same slots)",
        {"capacity": 10, "obs_dim": 3, "seed": 11}, steps, norm=_buffer_norm,
        hint=" (sample draws its slots with self.rng = np.random.default_rng(seed), e.g. "
             "self.rng.integers(0, len(self), size=batch_size), among the stored transitions only)"))
    steps = _adds(range(6), 2) + [("call", ("sample", [12]))]
    probes.append(_script_probe("ReplayBuffer(capacity=8, obs_dim=2) with the default seed (seed=0)",
                                {"capacity": 8, "obs_dim": 2}, steps, norm=_buffer_norm))
    probes.append(_uniform_probe())
    probes.append(_wrapped_support_probe())
    probes.append(_reproducible_probe())
    return probes


def _uniform_probe() -> Probe:
    label = "ReplayBuffer(capacity=100, obs_dim=3) holding 3 transitions: 50 samples of 64"

    def run(s):
        out = s.script("ReplayBuffer", {"capacity": 100, "obs_dim": 3, "seed": 5},
                       _adds(range(3), 3) + [("call", ("sample", [64]))] * 50)
        if any(isinstance(x, Raised) for x in out):
            return next(x for x in out if isinstance(x, Raised))
        try:
            draws = [tuple(np.asarray(f.detach().numpy() if isinstance(f, torch.Tensor) else f, dtype=np.float64)
                           for f in b[:6]) for b in out[3:]]
            rewards = np.concatenate([d[2] for d in draws])
            counts = [int((rewards == k + 1).sum()) for k in range(3)]
            freq = np.array(counts) / max(1, len(rewards))
            consistent = all(np.allclose(d[0][:, 0], d[2] - 1) and np.allclose(d[3][:, 0], d[2] + 99)
                             and np.allclose(d[1], (d[2] - 1) % 3) for d in draws)
        except Exception as exc:
            return Raised("UnreadableAnswer", f"{type(exc).__name__}: {exc}"[:200])
        return {"stored only": sorted(set(rewards.tolist())) == [1.0, 2.0, 3.0] or sorted(set(rewards.tolist())),
                "uniform": bool(np.all(np.abs(freq - 1 / 3) <= 0.1)) or freq.round(3).tolist(),
                "rows consistent": consistent}

    def compare(got, expected):
        if isinstance(got, Raised):
            return f"{label}: raised {got}"
        if got["stored only"] is not True:
            return (f"{label}: sampled rewards {got['stored only']}, expected all of and only [1, 2, 3]: draw "
                    "indices among the len(self) stored transitions (reward 0 is an empty slot; "
                    "rng.integers(0, n) already excludes n)")
        if got["uniform"] is not True:
            return f"{label}: each transition should be drawn about 1/3 of the time; frequencies {got['uniform']}"
        if got["rows consistent"] is not True:
            return (f"{label}: the fields of a sampled row come from different transitions: use the same "
                    "indices for every field")
        return None
    return Probe(label, run, compare)


def _wrapped_support_probe() -> Probe:
    label = "ReplayBuffer(capacity=4, obs_dim=2) after 10 adds: 10 samples of 50 are among the 4 newest"

    def run(s):
        out = s.script("ReplayBuffer", {"capacity": 4, "obs_dim": 2, "seed": 1},
                       _adds(range(10), 2) + [("call", ("sample", [50]))] * 10)
        if any(isinstance(x, Raised) for x in out):
            return next(x for x in out if isinstance(x, Raised))
        try:
            return sorted({float(v) for b in out[10:] for v in np.asarray(b[2]).ravel()})
        except Exception as exc:
            return Raised("UnreadableAnswer", f"{type(exc).__name__}: {exc}"[:200])

    def compare(got, expected):
        if isinstance(got, Raised):
            return f"{label}: raised {got}"
        if got != expected:
            return f"{label}: sampled rewards {got}, expected all of and only {expected} (transitions 6-9)"
        return None
    return Probe(label, run, compare)


def _reproducible_probe() -> Probe:
    label = "two ReplayBuffer(capacity=50, obs_dim=2, seed=11) with the same 30 transitions sample the same"

    def run(s):
        steps = _adds(range(30), 2) + [("call", ("sample", [20]))] * 3
        a = s.script("ReplayBuffer", {"capacity": 50, "obs_dim": 2, "seed": 11}, steps)
        b = s.script("ReplayBuffer", {"capacity": 50, "obs_dim": 2, "seed": 11}, steps)
        c = s.script("ReplayBuffer", {"capacity": 50, "obs_dim": 2, "seed": 12}, steps)
        for x in a + b + c:
            if isinstance(x, Raised):
                return x
        try:
            ra, rb, rc = ([np.asarray(x[2]).tolist() for x in y[30:]] for y in (a, b, c))
        except Exception as exc:
            return Raised("UnreadableAnswer", f"{type(exc).__name__}: {exc}"[:200])
        return {"same seed, same samples": ra == rb, "another seed, other samples": ra != rc}

    def compare(got, expected):
        if isinstance(got, Raised):
            return f"{label}: raised {got}"
        if not got["same seed, same samples"]:
            return (f"{label}: two buffers with the same seed and contents gave different samples: draw the "
                    "indices with self.rng = np.random.default_rng(seed), not np.random or torch")
        if not got["another seed, other samples"]:
            return f"{label}: seed=11 and seed=12 gave the same samples: seed self.rng with the seed argument"
        return None
    return Probe(label, run, compare)


# ---------------------------------------------------------------- linear_epsilon


def probes_linear_epsilon() -> list[Probe]:
    rng = np.random.default_rng(2)
    cases = [(0, 1.0, 0.05, 1000), (1000, 1.0, 0.05, 1000), (5000, 1.0, 0.05, 1000), (250, 0.5, 0.1, 500),
             (7, 0.0, 1.0, 10), (30, 0.0, 1.0, 10), (999, 1.0, 0.05, 1000), (1001, 1.0, 0.05, 1000),
             (3, 0.8, 0.2, 7), (1, 1.0, 0.0, 1), (2, 1.0, 0.0, 1)]
    for _ in range(24):
        decay = int(rng.integers(1, 20_000))
        cases.append((int(rng.integers(0, 3 * decay + 1)), float(rng.uniform(0.2, 1)), float(rng.uniform(0, 0.2)), decay))
    probes = []
    for step, start, end, decay in cases:
        label = f"linear_epsilon({step}, start={start:.3f}, end={end:.3f}, decay_steps={decay})"

        def run(s, args=(step, start, end, decay)):
            v = s.call("linear_epsilon", *args).value
            ok = isinstance(v, (float, np.floating))
            return ("float" if ok else type(v).__name__, float(v) if ok else None)

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            if got[0] != "float":
                return f"{label}: expected a float, got a {got[0]}"
            return diff(got[1], expected[1], 1e-9, 1e-9, label)
        probes.append(Probe(label, run, compare, atol=1e-9, rtol=1e-9))
    return probes


# ---------------------------------------------------------------- td_target and double_dqn_target


def _target_probe(fn, label, nets: list, fields: dict, gamma: float) -> Probe:
    batch = record(fields)
    args = nets + [batch, gamma]
    names = [f"net #{i}" for i in range(len(nets))] + ["the batch"]

    def run(s):
        r = s.call(fn, *args)
        changed = [n for n, a, after in zip(names, args, r.args_after) if _changed(a, after)]
        return _tensor(r.value), changed

    def compare(got, expected):
        if isinstance(got, Raised):
            return f"{label}: raised {got}"
        (g, gc), (e, ec) = got, expected
        return _first_problem(label, _tensor_checks("the targets", g, e, 1e-5) + _no_grad_check("the targets", g, e)
                              + _inputs_check(gc, ec))
    return Probe(label, run, compare, atol=1e-5, rtol=1e-5)


def probes_td_target() -> list[Probe]:
    rng = np.random.default_rng(303)
    probes = []
    for i, B in enumerate([1, 7, 64] * 4):
        n_actions = 2 + i % 3
        net = make_net(rng, (4, 16, n_actions), scale=3.0)
        fields = random_batch(rng, B, n_actions=n_actions)
        if B == 1:
            fields["terminated"][0], fields["truncated"][0] = float(i % 2), float(1 - i % 2)
        gamma = float(rng.uniform(0.5, 0.999))
        probes.append(_target_probe("td_target", f"td_target(target_net, batch, gamma={gamma:.3f}) on random "
                                    f"batch #{i} (B={B}, {n_actions} actions)", [net], fields, gamma))
    return probes


def probes_double_dqn_target() -> list[Probe]:
    rng = np.random.default_rng(606)
    probes = []
    for i, B in enumerate([1, 9, 64] * 4):
        n_actions = 3 + i % 3
        online = make_net(rng, (4, 16, n_actions), scale=3.0)
        target = make_net(rng, (4, 16, n_actions), scale=3.0)
        fields = random_batch(rng, B, n_actions=n_actions)
        if B == 1:
            fields["terminated"][0], fields["truncated"][0] = float(i % 2), float(1 - i % 2)
        gamma = float(rng.uniform(0.5, 0.999))
        probes.append(_target_probe("double_dqn_target", f"double_dqn_target(online_net, target_net, batch, "
                                    f"gamma={gamma:.3f}) on random batch #{i} (B={B}, {n_actions} actions)",
                                    [online, target], fields, gamma))
    return probes


# ---------------------------------------------------------------- huber_loss

BATTERY = torch.tensor([-50.0, -6.0, -3.0, -2.0, -1.5, -1.0, -0.999, -0.5, -0.1, 0.0, 0.1, 0.5, 0.999, 1.0,
                        1.001, 1.5, 2.0, 3.0, 6.0, 50.0])


def probes_huber_loss() -> list[Probe]:
    gen = torch.Generator().manual_seed(404)
    cases = []
    for shape in ((64,), (5, 3)):
        for delta in (0.5, 1.0, 2.0, 10.0):
            x = torch.randn(shape, generator=gen) * 3 * delta
            x.view(-1)[:3] = torch.tensor([delta, -delta, 0.0])  # the kinks and the origin
            cases.append((x, delta, delta != 1.0, True))
    cases.append((BATTERY.clone(), 1.0, False, True))
    cases.append((BATTERY.clone() * 0.7, 0.7, True, False))  # without requires_grad: in-place changes show
    cases.append((torch.randn(4, 3, 2, generator=gen).double() * 4, 1.5, True, True))
    cases.append((torch.tensor([1e4, -1e4, 1e-4]), 1.0, True, True))
    probes = []
    for x, delta, pass_delta, rg in cases:
        shape = tuple(x.shape)
        label = (f"huber_loss(errors of shape {shape}, {x.dtype}{', requires_grad' if rg else ''}"
                 f"{f', delta={delta:g}' if pass_delta else ' (default delta)'})")

        def run(s, x=x, delta=delta, pass_delta=pass_delta, rg=rg):
            arg = x.clone().requires_grad_(rg)
            r = s.call("huber_loss", arg, **({"delta": delta} if pass_delta else {}))
            return _tensor(r.value), (["errors"] if _changed(arg, r.args_after[0]) else [])

        def compare(got, expected, label=label, rg=rg):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            (g, gc), (e, ec) = got, expected
            checks = _tensor_checks("the loss", g, e, 1e-6)
            checks[1] = ("its shape", g[1], e[1], 0, f"the loss must have the errors' shape {e[1]} (elementwise, "
                         f"no mean), got {g[1]}")
            return _first_problem(label, checks + (_no_grad_check("the loss", g, e) if rg else [])
                                  + _inputs_check(gc, ec))
        probes.append(Probe(label, run, compare, atol=1e-6, rtol=1e-6))
    return probes


# ---------------------------------------------------------------- dqn_update


class _OptimizerSpy:
    """Stands in for the optimizer: records which of its methods the student's code calls."""

    def __init__(self):
        self.log = []

    def zero_grad(self, *args, **kwargs):
        self.log.append("zero_grad")

    def step(self, *args, **kwargs):
        self.log.append("step")


def _huber_battery(s) -> tuple:
    try:
        return _tensor(s.call("huber_loss", BATTERY.clone().requires_grad_(True)).value)
    except StudentRaised as exc:
        return ("raised", str(exc.raised))


def _stale_grads(state: dict) -> dict:
    """Gradients an earlier update left on the network (``.grad`` is not cleared by a step)."""
    return {k: (0.5 * np.sin(np.arange(v.size) + 1.0)).reshape(v.shape).astype(np.float32) for k, v in state.items()}


def _update_call(s, state, sizes, opt, fields, targets, weights, max_norm, how, activation="tanh", stale=True):
    """One dqn_update call; its trace (a dict). With ``stale`` the network arrives holding the
    gradients of an earlier update, as the notebook's network does from the second update on: the
    answer must clear them (``optimizer.zero_grad()`` or ``online_net.zero_grad()``, either works)."""
    net = Net(tuple(sizes), activation=activation, state=state, grads=_stale_grads(state) if stale else None)
    batch = record(fields)
    args = [net, opt, batch, targets]
    kwargs = {}
    if weights is not None:
        args.append(weights)
    if how == "positional":
        args.append(max_norm)
    elif how == "keyword":
        kwargs["max_grad_norm"] = max_norm
    try:
        r = s.call("dqn_update", *args, **kwargs)
    except StudentRaised as exc:
        return {"raised": exc.raised}
    value = r.value
    ok = isinstance(value, tuple) and len(value) == 2
    loss, td = value if ok else (None, None)
    names = ["the network", "the optimizer", "the batch", "the targets", "the weights"]
    changed = [n for n, a, after in zip(names, args, r.args_after) if n not in ("the network", "the optimizer")
               and _changed(a, after)]
    module = r.args_after[0]
    trace = {"returns": "a tuple (loss, td_errors)" if ok else f"a {type(value).__name__}",
             "loss kind": "float" if isinstance(loss, (float, np.floating)) else type(loss).__name__,
             "loss": float(loss) if isinstance(loss, (float, np.floating)) else None,
             "td": _tensor(td), "changed": changed,
             "params": {k: v.astype(np.float64) for k, v in module["state"].items()},
             "moved": any(not np.array_equal(module["state"][k], state[k]) for k in state),
             "grads": {k: None if v is None else v.astype(np.float64) for k, v in module["grads"].items()}}
    # the loss as the (weighted) mean of the student's own huber_loss of the TD errors it returned
    trace["own loss"] = None
    if isinstance(td, torch.Tensor):
        try:
            h = s.call("huber_loss", td.detach().clone()).value
            w = 1.0 if weights is None else weights.double()
            trace["own loss"] = float((w * torch.as_tensor(h).detach().double()).mean())
        except Exception:
            pass
    return trace


def _update_problem(label, g, e, huber_ok, spy=False, first=True) -> str | None:
    if "raised" in e:
        return None
    if "raised" in g:
        return f"{label}: raised {g['raised']}"
    checks = [("the result", g["returns"], e["returns"], 0,
               f"dqn_update must return a tuple (loss, td_errors), got {g['returns']}"),
              ("the loss's type", g["loss kind"], e["loss kind"], 0,
               f"the loss must be a Python float (loss.item()), got a {g['loss kind']}")]
    checks += _tensor_checks("td_errors", g["td"], e["td"], 1e-5)
    if not huber_ok and not first:  # later updates start from parameters the student's huber_loss moved
        checks = checks[:-1]
    checks += [("td_errors requires_grad", g["td"][2], e["td"][2], 0,
                "td_errors must be a tensor without gradient (.detach() it)")]
    checks += _inputs_check(g["changed"], e["changed"])
    if spy:
        checks += [("the optimizer's calls", g["log"], e["log"], 0,
                    f"the optimizer was used as {g['log']}, expected {e['log']}: zero the gradients first "
                    "(gradients of earlier updates must not add up), then loss.backward(), clipping, and one "
                    "optimizer.step()")]
    if huber_ok:
        checks += [("the loss", g["loss"], e["loss"], 1e-5, None)]
        if spy:
            checks += [("the gradients at optimizer.step()", g["grads"], e["grads"], 1e-5,
                        None)]
        else:
            checks += [("moved", g["moved"], e["moved"], 0,
                        "the parameters did not change: call optimizer.step() after loss.backward() "
                        "(and zero the gradients before backward, not between backward and step)"),
                       ("the parameters after the step", g["params"], e["params"], 2e-5, None)]
    else:  # the student's huber_loss is wrong (its own exercise says so): what does not depend on it
        checks += [("the loss", g["loss"], g["own loss"], 1e-5,
                    "the loss is not the (weighted) mean of huber_loss(td_errors)")]
        if not spy:
            checks += [("moved", g["moved"], e["moved"], 0,
                        "the parameters did not change: call optimizer.step() after loss.backward()")]
    return _first_problem(label, checks)


def _update_probe(label, steps, sizes, seed_state, spy=False, activation="tanh") -> Probe:
    """``steps``: (opt, fields, targets, weights, max_norm, how) applied in sequence, each call
    starting from the parameters the previous one left."""
    def run(s):
        huber = _huber_battery(s)
        state, traces = seed_state, []
        for opt, fields, targets, weights, max_norm, how in steps:
            spy_obj = _OptimizerSpy() if spy else None
            o = Proxy(spy_obj, ("zero_grad", "step")) if spy else opt
            # a spy does not clear gradients: it gets a network without stale ones, and counts the steps
            # (whether the gradients are cleared, and before the step, the probes with stale ones say)
            t = _update_call(s, state, sizes, o, fields, targets, weights, max_norm, how, activation, stale=not spy)
            if spy:
                t["log"] = {"optimizer.step() calls": spy_obj.log.count("step")}
            traces.append(t)
            if "raised" in t or "params" not in t:
                break
            state = {k: v.astype(np.float32) for k, v in t["params"].items()}
        return {"huber": huber, "steps": traces}

    def compare(got, expected):
        if isinstance(got, Raised):
            return f"{label}: raised {got}"
        huber_ok = diff(got["huber"], expected["huber"], 1e-6, 1e-6) is None
        for i, (g, e) in enumerate(zip(got["steps"], expected["steps"])):
            where = f"{label}, update {i + 1} of {len(expected['steps'])}" if len(expected["steps"]) > 1 else label
            if (not huber_ok and "raised" in g and g["raised"].ename == "RuntimeError"
                    and str(got["huber"][0]).startswith("torch") and not got["huber"][2]):
                return None  # the student's huber_loss cannot be back-propagated: nothing to judge here
            problem = _update_problem(where, g, e, huber_ok, spy, first=i == 0)
            if problem:
                return problem
        if len(got["steps"]) != len(expected["steps"]):
            return f"{label}: stopped after {len(got['steps'])} updates"
        return None

    def key(trace):
        return trace if isinstance(trace, Raised) else [{k: v for k, v in t.items() if k != "own loss"}
                                                         for t in trace["steps"]]
    return Probe(label, run, compare, key=key, atol=2e-5, rtol=2e-5)


def probes_dqn_update() -> list[Probe]:
    rng = np.random.default_rng(505)
    probes = []
    # (B, weighted, optimizer, max_grad_norm, targets' scale, how max_grad_norm is passed, observations' scale):
    # ReLU networks on large observations have gradient norms far above 10, so clipping at the default
    # 10 and at small norms both matter, and clipping each value differs from clipping the norm
    cases = [(1, False, "SGD", 10.0, 1.0, "default", 1.0), (8, True, "SGD", 10.0, 1.0, "positional", 1.0),
             (64, False, "Adam", 10.0, 1.0, "keyword", 1.0), (64, True, "SGD", 0.5, 20.0, "positional", 1.0),
             (8, False, "SGD", 0.5, 20.0, "keyword", 1.0), (64, True, "Adam", 1.0, 5.0, "positional", 1.0),
             (16, False, "SGD", 10.0, 60.0, "default", 40.0), (16, True, "SGD", 0.5, 60.0, "keyword", 40.0),
             (32, False, "Adam", 10.0, 60.0, "default", 40.0)]
    for i, (B, weighted, kind, max_norm, scale, how, obs_scale) in enumerate(cases):
        n_actions = 2 + i % 2
        sizes = (4, 16, n_actions)
        activation = "tanh" if obs_scale == 1.0 else "relu"
        state = net_state(rng, sizes)
        fields = random_batch(rng, B, n_actions=n_actions)
        fields["obs"] = fields["obs"] * obs_scale
        targets = torch.as_tensor(rng.normal(size=B) * scale, dtype=torch.float32)
        weights = torch.as_tensor(rng.uniform(0.1, 1.0, size=B), dtype=torch.float32) if weighted else None
        opt = Optim(kind, of=0, lr=(0.05 if obs_scale == 1.0 else 1e-3) if kind == "SGD" else 1e-2)
        shown = {"default": "max_grad_norm left at its default 10", "positional": f"max_grad_norm={max_norm:g} "
                 "passed by position", "keyword": f"max_grad_norm={max_norm:g}"}[how]
        label = (f"dqn_update on random case #{i} (B={B}, {kind}, weights={'yes' if weighted else 'None'}, "
                 f"{shown}, targets of scale {scale:g}, {activation} network, observations of scale {obs_scale:g})")
        probes.append(_update_probe(label, [(opt, fields, targets, weights, max_norm, how)], sizes, state,
                                    activation=activation))
        if i in (3, 4, 6, 7):  # the gradients handed to optimizer.step(), and the order of the calls
            probes.append(_update_probe(label.replace("dqn_update", "dqn_update with a spy optimizer", 1),
                                        [(None, fields, targets, weights, max_norm, how)], sizes, state, spy=True,
                                        activation=activation))
    # three updates in sequence, each from the parameters the previous one left
    sizes = (3, 8, 3)
    state = net_state(rng, sizes)
    steps = []
    for j in range(3):
        B = 12
        fields = random_batch(rng, B, obs_dim=3, n_actions=3)
        targets = torch.as_tensor(rng.normal(size=B) * 4, dtype=torch.float32)
        weights = torch.as_tensor(rng.uniform(0.1, 1.0, size=B), dtype=torch.float32) if j == 1 else None
        steps.append((Optim("SGD", of=0, lr=0.1), fields, targets, weights, 1.0, "keyword"))
    probes.append(_update_probe("three dqn_update calls in sequence (SGD lr=0.1, max_grad_norm=1)", steps, sizes, state))
    return probes


# ---------------------------------------------------------------- dueling_aggregate


def probes_dueling_aggregate() -> list[Probe]:
    gen = torch.Generator().manual_seed(707)
    probes = []
    for B, A in ((1, 2), (3, 3), (4, 4), (5, 3), (2, 7), (32, 6), (1, 1)):
        value = torch.randn(B, 1, generator=gen)
        adv = torch.randn(B, A, generator=gen) * 2
        for rg in ((True, True), (False, False), (False, True)):
            if rg != (True, True) and B not in (3, 5):
                continue
            label = (f"dueling_aggregate(value ({B}, 1), advantages ({B}, {A}))"
                     f"{'' if rg == (True, True) else ' with requires_grad=' + str(rg)}")

            def run(s, value=value, adv=adv, rg=rg):
                v, a = value.clone().requires_grad_(rg[0]), adv.clone().requires_grad_(rg[1])
                r = s.call("dueling_aggregate", v, a)
                changed = [n for n, x, after in zip(("value", "advantages"), (v, a), r.args_after) if _changed(x, after)]
                return _tensor(r.value), changed

            def compare(got, expected, label=label):
                if isinstance(got, Raised):
                    return f"{label}: raised {got}"
                (g, gc), (e, ec) = got, expected
                return _first_problem(label, _tensor_checks("Q", g, e, 1e-6) + _no_grad_check("Q", g, e)
                                      + _inputs_check(gc, ec))
            probes.append(Probe(label, run, compare, atol=1e-6, rtol=1e-6))
    return probes


# ---------------------------------------------------------------- SumTree


def _tree_norm(step, x):
    if isinstance(x, Raised):
        return x
    method = step[1][0] if step[0] == "call" else step[1]
    if method == "total":
        return float(x) if isinstance(x, (float, np.floating)) else f"not a float: {type(x).__name__}"
    if method == "tree":
        return np.asarray(x, dtype=np.float64) if isinstance(x, np.ndarray) else f"not an array: {type(x).__name__}"
    if method == "find":
        if not isinstance(x, np.ndarray):
            return f"not an array: {type(x).__name__}"
        return ("integer indices" if x.dtype.kind in "iu" else f"dtype {x.dtype}", x.shape, x.astype(np.float64))
    return None  # update's return value is not part of the contract


def probes_SumTree() -> list[Probe]:
    rng = np.random.default_rng(808)
    probes = []
    total, tree = ("call", ("total", [])), ("attr", "tree")

    def find(values):
        return ("call", ("find", [np.asarray(values, dtype=np.float64)]))

    def update(idx, p):
        return ("call", ("update", [np.asarray(idx, dtype=np.int64), np.asarray(p, dtype=np.float64)]))

    for capacity in (2, 8, 64, 1024):
        p = rng.integers(0, 6, size=capacity).astype(float)
        p[rng.integers(capacity)] = 3.0   # at least one positive priority
        prefix = np.concatenate([[0.0], np.cumsum(p)])
        positive = np.flatnonzero(p > 0)
        steps = [total, tree, update(np.arange(capacity), p), total]
        if capacity <= 64:
            steps.append(tree)
        steps += [find(prefix[positive]), find(prefix[positive] + p[positive] * 0.5), find([p.sum() - 1e-9]),
                  find(rng.uniform(0, p.sum(), size=200))]
        # partial updates with repeated indices (same priority), then single updates as in add()
        for _ in range(3):
            k = int(rng.integers(1, capacity + 1))
            idx = rng.integers(0, capacity, size=k)
            new = {int(i): float(v) for i, v in zip(idx, rng.integers(1, 9, size=k))}
            idx = np.array(list(new) + list(new)[:2], dtype=np.int64)
            p[idx] = [new[int(i)] for i in idx]
            steps += [update(idx, p[idx]), total, find(rng.uniform(0, p.sum(), size=100))]
        for j in range(5):
            i = int(rng.integers(capacity))
            p[i] = j + 1.5
            steps += [update([i], [j + 1.5]), total]
        steps += [find(np.concatenate([[0.0], np.cumsum(p)])[:-1]), find(rng.uniform(0, p.sum(), size=50))]
        if capacity <= 64:
            steps.append(tree)
        probes.append(_script_probe(f"SumTree({capacity}): a sequence of updates (all leaves, some leaves with "
                                    "repeated indices, single leaves), total(), tree and find()",
                                    {"capacity": capacity}, steps, cls="SumTree", norm=_tree_norm, atol=1e-9))
    steps = [update(np.arange(8), [0, 3, 0, 0, 5, 0, 0, 0]), find([0.0, 2.999, 3.0, 7.999]),
             update([4], [0.0]), update([7], [2.0]), total, find([0.0, 2.999, 3.0, 4.5]), tree]
    probes.append(_script_probe("SumTree(8) with priorities [0, 3, 0, 0, 5, 0, 0, 0], then leaf 4 set to 0 and leaf 7 "
                                "to 2", {"capacity": 8}, steps, cls="SumTree", norm=_tree_norm, atol=1e-9))
    return probes


# ---------------------------------------------------------------- importance_weights


def probes_importance_weights() -> list[Probe]:
    rng = np.random.default_rng(909)
    cases = [(np.array([0.5]), 10, 0.4), (np.array([0.1, 0.1, 0.1]), 30, 1.0), (np.array([0.01, 0.02, 0.04]), 50, 0.0),
             (np.array([0.5, 0.25, 0.125]), 4, 0.5), (np.array([0.3, 0.001, 0.05]), 7, 0.7)]
    for _ in range(12):
        B = int(rng.integers(2, 65))
        n = int(rng.choice([10, 1000, 100_000]))
        probs = rng.dirichlet(np.ones(n) * 0.5)[:B] + 1e-9
        cases.append((probs, n, float(rng.choice([0.4, 0.7, 1.0]))))
    probes = []
    for probs, n, beta in cases:
        label = f"importance_weights({len(probs)} probabilities, n={n}, beta={beta})"

        def run(s, probs=probs, n=n, beta=beta):
            r = s.call("importance_weights", probs, n, beta)
            return _tensor(r.value), (["probs"] if _changed(probs, r.args_after[0]) else [])

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            (g, gc), (e, ec) = got, expected
            checks = _tensor_checks("the weights", g, e, 1e-9)
            checks[0] = ("the weights' type", g[0].split()[0], e[0].split()[0], 0,
                         f"the weights must be a numpy array, got {g[0]}")
            checks[2] = ("the weights", g[3], e[3], 1e-9, None)
            return _first_problem(label, checks + _inputs_check(gc, ec))
        probes.append(Probe(label, run, compare, atol=1e-9, rtol=1e-6))
    return probes


# ---------------------------------------------------------------- dqn_step: a scripted spy environment


def _plain(x):
    """A value that crossed from the kernel as plain Python data (arrays as lists of floats)."""
    if isinstance(x, np.ndarray):
        return np.asarray(x, dtype=np.float64).tolist()
    if isinstance(x, torch.Tensor):
        return x.detach().double().tolist()
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def _action(a):
    """An action as given to env.step: ("int", value) for a Python or numpy integer, else its kind."""
    if isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)):
        return ("int", int(a))
    return (type(a).__name__, _plain(a) if isinstance(a, (torch.Tensor, np.ndarray, float)) else None)


class StepEnv:
    """Episodes ``(start, [(next_obs, reward, terminated, truncated), ...])`` played whatever the
    action; records every reset and every action, and refuses a step after its episode ended."""

    def __init__(self, episodes):
        self.episodes, self.events, self.k, self.over, self.script = list(episodes), [], 0, True, []

    def reset(self, seed=None, options=None):
        if self.k >= len(self.episodes):
            raise AssertionError("env.reset() was called although no episode had ended: reset only when a step "
                                 "returns terminated or truncated")
        start, self.script = self.episodes[self.k]
        self.k, self.t, self.over = self.k + 1, 0, False
        self.events.append(("reset", start))
        return np.asarray(start, dtype=np.float32), {}

    def step(self, action):
        if self.over:
            raise AssertionError("env.step() was called after the episode ended: when a step returns terminated "
                                 "OR truncated, reset the environment (a time limit ends the episode too)")
        self.events.append(("step", _action(action)))
        next_obs, reward, terminated, truncated = self.script[self.t]
        self.t, self.over = self.t + 1, bool(terminated or truncated)
        return np.asarray(next_obs, dtype=np.float32), reward, terminated, truncated, {}


class SpyBuffer:
    """Records each add and each sample; a sample is the string "minibatch k" (learn must get it)."""

    def __init__(self, held: int):
        self.held, self.adds, self.samples = held, [], []

    def add(self, obs, action, reward, next_obs, terminated, truncated):
        values = [_plain(v) for v in (obs, action, reward, next_obs, terminated, truncated)]
        # the flags as bools, whether they came as bools or as 1.0 / 0.0
        self.adds.append([bool(v) if i >= 4 and isinstance(v, (bool, int, float)) and v in (0, 1) else v
                          for i, v in enumerate(values)])

    def __len__(self):
        return self.held + len(self.adds)

    def sample(self, batch_size):
        self.samples.append(_plain(batch_size))
        return f"minibatch {len(self.samples)}"


class SpyLearn:
    def __init__(self):
        self.calls = []

    def __call__(self, *args, **kwargs):
        self.calls.append([_plain(a) for a in args] + [(k, _plain(v)) for k, v in kwargs.items()])
        return 0.125 * len(self.calls)


def _epsilon(step, cfg) -> float:
    return cfg["eps_start"] + (cfg["eps_end"] - cfg["eps_start"]) * min(1.0, step / cfg["eps_decay"])


def _seed_with(low: float, high: float, start: int) -> int:
    """The first seed from ``start`` on whose ``default_rng(seed).random()`` lies in [low, high)."""
    seed = start
    while not low <= np.random.default_rng(seed).random() < high:
        seed += 1
    return seed


def _seeds(steps, cfg, explore, base: int) -> list[int]:
    """One generator seed per step: its first draw below epsilon where ``explore`` says so, clearly
    above it elsewhere (where epsilon allows)."""
    seeds = []
    for k, (step, want) in enumerate(zip(steps, explore)):
        eps = _epsilon(step, cfg)
        if want and eps > 0.02:
            seeds.append(_seed_with(0.0, 0.9 * eps, base + 1000 * k))
        elif eps < 0.95:
            seeds.append(_seed_with(min(0.98, eps + 0.5 * (1 - eps)), 1.0, base + 1000 * k))
        else:
            seeds.append(base + 1000 * k)
    return seeds


def _step_trace(s, spec) -> list:
    """Run the student's dqn_step once per step of ``spec`` on one spy environment, spy buffer and
    spy learn, each step acting from the observation the previous one returned (as train_dqn does)."""
    env, buf, learn = StepEnv(spec["episodes"]), SpyBuffer(spec["held"]), SpyLearn()
    obs, _ = env.reset()
    env.events.clear()
    n_obs = len(np.atleast_1d(spec["episodes"][0][0]))
    from gymnasium import spaces
    attrs = {"action_space": spaces.Discrete(spec["n_actions"]),
             "observation_space": spaces.Box(-np.inf, np.inf, shape=(n_obs,), dtype=np.float32)}
    trace = []
    for step, seed in zip(spec["steps"], spec["seeds"]):
        marks = (len(env.events), len(buf.adds), len(buf.samples), len(learn.calls))
        try:
            r = s.call("dqn_step", Proxy(env, ("reset", "step"), attrs), obs, step, spec["net"],
                       Proxy(buf, ("add", "sample", "__len__")), Callback(learn), Rng(seed), dict(spec["cfg"]),
                       deps=("linear_epsilon",))
        except StudentRaised as exc:
            trace.append({"step": step, "raised": exc.raised})
            break
        value = r.value
        fields = list(value) if isinstance(value, (tuple, list)) and len(value) == 4 else None
        returned = ({"obs": _plain(fields[0]), "reward": _plain(fields[1]), "episode_over": _plain(fields[2]),
                     "losses": _plain(fields[3])} if fields else f"not a StepResult: {type(value).__name__}")
        trace.append({"step": step, "env": env.events[marks[0]:], "adds": buf.adds[marks[1]:],
                      "samples": buf.samples[marks[2]:], "learn": learn.calls[marks[3]:], "returned": returned})
        if not fields or not isinstance(fields[0], np.ndarray):
            break
        obs = fields[0]
    return trace


_ADD = ("obs", "action", "reward", "next_obs", "terminated", "truncated")


def _step_problem(label, spec, got, expected) -> str | None:
    if isinstance(got, Raised):
        return f"{label}: raised {got}"
    for k, (g, e) in enumerate(zip(got, expected)):
        where = f"{label}, step {e['step']}"
        if "raised" in g:
            return f"{where}: raised {g['raised']}"
        eps = _epsilon(e["step"], spec["cfg"])
        e_steps = [ev for ev in e["env"] if ev[0] == "step"]
        g_steps = [ev for ev in g["env"] if ev[0] == "step"]
        if len(g_steps) != len(e_steps):
            return f"{where}: env.step() was called {len(g_steps)} times, expected once per call of dqn_step"
        (g_kind, g_a), (e_kind, e_a) = g_steps[0][1], e_steps[0][1]
        if g_kind != "int":
            return f"{where}: the action given to env.step must be a Python int (int(...) of the argmax), got a {g_kind}"
        if g_a != e_a:
            u = np.random.default_rng(spec["seeds"][k]).random()
            how = (f"rng.random() drew {u:.3f} < epsilon = {eps:.3f}: explore with rng.integers(n_actions) (= {e_a})"
                   if u < eps else f"rng.random() drew {u:.3f} >= epsilon = {eps:.3f}: act greedily, argmax_a Q(obs, a)"
                   f" = {e_a}")
            return (f"{where}: took action {g_a}, expected {e_a}: epsilon = linear_epsilon(step, eps_start, eps_end, "
                    f"eps_decay) and {how}")
        if len(g["adds"]) != 1:
            return f"{where}: buffer.add was called {len(g['adds'])} times, expected once per step"
        ga, ea = g["adds"][0], e["adds"][0]
        if len(ga) != 6:
            return f"{where}: buffer.add got {len(ga)} arguments, expected (obs, action, reward, next_obs, terminated, truncated)"
        reset = [ev[1] for ev in e["env"] if ev[0] == "reset"]
        for name, gv, ev in zip(_ADD, ga, ea):
            if diff(gv, ev, 1e-6, 1e-6) is None:
                continue
            if name == "next_obs" and reset and diff(gv, [float(v) for v in np.atleast_1d(reset[0])], 1e-6, 1e-6) is None:
                return (f"{where}: the stored next_obs is the reset's observation (the next episode's first): store the "
                        "transition with the next_obs env.step returned, BEFORE resetting")
            if name == "next_obs" and diff(gv, ea[0], 1e-6, 1e-6) is None:
                return f"{where}: the stored next_obs is obs: store the observation env.step returned"
            if name == "terminated" and bool(gv) and ea[5]:
                return (f"{where}: the step was truncated (a time limit), not terminated, and the buffer got "
                        "terminated=True: store terminated as the step returned it; a time limit is not a terminal state")
            if name == "obs":
                return (f"{where}: the stored obs is {gv}, but the step acted from {ev}: after each step act from the "
                        "returned observation (next_obs, or the reset's observation after an episode's end)")
            return f"{where}: buffer.add got {name} = {gv!r}, expected {ev!r}"
        if len([ev for ev in g["env"] if ev[0] == "reset"]) != len(reset):
            return (f"{where}: the step returned terminated={ea[4]}, truncated={ea[5]}: " +
                    ("reset the environment when an episode ends (terminated OR truncated)" if reset else
                     "reset only when the episode ended"))
        if not isinstance(g["returned"], dict):
            return f"{where}: dqn_step must return a StepResult(obs, reward, episode_over, losses), got {g['returned']}"
        gr, er = g["returned"], e["returned"]
        if diff(gr["obs"], er["obs"], 1e-6, 1e-6) is not None:
            if reset and diff(gr["obs"], ea[3], 1e-6, 1e-6) is None:
                return (f"{where}: returned the ended episode's last observation: after the reset, the next step acts "
                        "from the reset's observation (obs, _ = env.reset())")
            return f"{where}: the observation returned is {gr['obs']}, expected {er['obs']} (the next step acts from it)"
        n_e, n_g = len(e["learn"]), len(g["learn"])
        if n_g != n_e or len(g["samples"]) != len(e["samples"]):
            c = spec["cfg"]
            when = (f"learning_starts={c['learning_starts']}, train_every={c['train_every']}, "
                    f"gradient_steps={c['gradient_steps']}")
            return (f"{where}: learn was called {n_g} times and buffer.sample {len(g['samples'])} times, expected "
                    f"{n_e} ({when}: learn gradient_steps times when step >= learning_starts and step % train_every == 0)")
        if g["samples"] != e["samples"]:
            return f"{where}: buffer.sample got {g['samples']}, expected batch_size {e['samples'][0]}"
        if g["learn"] != e["learn"]:
            return f"{where}: learn got {g['learn']}, expected each minibatch buffer.sample returned: {e['learn']}"
        problem = diff(gr, er, 1e-9, 1e-9, "the StepResult")
        if problem:
            return f"{where}: {problem}"
    if len(got) != len(expected):
        return f"{label}: stopped after {len(got)} of {len(expected)} steps"
    return None


def _step_probe(label, spec) -> Probe:
    def run(s):
        return _step_trace(s, spec)

    def compare(got, expected):
        return _step_problem(label, spec, got, expected)
    return Probe(label, run, compare, atol=1e-9, rtol=1e-9)


def _episodes(rng, ends, obs_dim, offset=0.0):
    """Episodes with the given endings ("terminated", "truncated", "both", or None for one that goes on),
    each of a length drawn from rng (1 to 3 steps; 30 for one that goes on)."""
    out = []
    for j, end in enumerate(ends):
        T = 30 if end is None else int(rng.integers(1, 4))
        start = np.round(rng.normal(size=obs_dim) + offset, 3).astype(np.float32)
        script = []
        for t in range(T):
            last = t == T - 1 and end is not None
            script.append((np.round(rng.normal(size=obs_dim) + offset, 3).astype(np.float32),
                           float(np.round(rng.normal(), 3)), last and end in ("terminated", "both"),
                           last and end in ("truncated", "both")))
        out.append((start, script))
    return out


def probes_dqn_step() -> list[Probe]:
    rng = np.random.default_rng(1212)
    probes = []
    scenarios = [
        # (label, first step, number of steps, cfg, endings, obs_dim, n_actions)
        ("the first 12 steps of a run (epsilon from 1 to 0.05 over 8 steps; learning from step 4, every 4 steps, "
         "2 gradient steps)", 1, 12,
         dict(eps_start=1.0, eps_end=0.05, eps_decay=8, learning_starts=4, train_every=4, gradient_steps=2, batch_size=4),
         ["truncated", "terminated", "both", "truncated", None], 4, 3),
        ("steps 997-1011 (learning starts at step 1000, a multiple of train_every=5; 3 gradient steps of 64)", 997, 15,
         dict(eps_start=1.0, eps_end=0.1, eps_decay=1000, learning_starts=1000, train_every=5, gradient_steps=3,
              batch_size=64), ["terminated", "truncated", "truncated", "both", None], 4, 2),
        ("steps 1-13 (learning from step 6, every 3 steps, 4 gradient steps; epsilon 0.5 to 0.2 over 4 steps)", 1, 13,
         dict(eps_start=0.5, eps_end=0.2, eps_decay=4, learning_starts=6, train_every=3, gradient_steps=4, batch_size=2),
         ["both", "truncated", "terminated", "terminated", None], 2, 4),
        ("steps 3-10 (learning at every step from 3 on, 1 gradient step; epsilon 0.3 throughout)", 3, 8,
         dict(eps_start=0.3, eps_end=0.3, eps_decay=10, learning_starts=3, train_every=1, gradient_steps=1, batch_size=3),
         ["truncated", "truncated", "terminated", None], 1, 2),
        ("steps 41-60 of a long episode, no learning yet (epsilon from 0.9 to 0.1 over 50 steps)", 41, 20,
         dict(eps_start=0.9, eps_end=0.1, eps_decay=50, learning_starts=500, train_every=4, gradient_steps=2, batch_size=8),
         [None], 3, 5),
    ]
    # every burst finds at least batch_size transitions stored (held before the first step, plus one per step),
    # as in train_dqn (learning_starts >= batch_size): checking len(buffer) as well is not wrong
    for i, (label, first, n, cfg, ends, obs_dim, n_actions) in enumerate(scenarios):
        steps = list(range(first, first + n))
        explore = [bool(v) for v in rng.random(n) < 0.5]
        spec = {"episodes": _episodes(rng, ends, obs_dim, offset=float(i)), "steps": steps, "cfg": cfg,
                "seeds": _seeds(steps, cfg, explore, 10_000 * (i + 1)), "n_actions": n_actions, "held": steps[0] - 1,
                "net": make_net(rng, (obs_dim, 16, n_actions), scale=3.0)}
        probes.append(_step_probe(f"dqn_step on {label}", spec))
    # the schedule read at each step: single steps anywhere in it, each with a seed just below or above epsilon
    cfg = dict(eps_start=0.9, eps_end=0.1, eps_decay=2, learning_starts=10_000, train_every=1, gradient_steps=1,
               batch_size=1)
    steps = [1, 1, 2, 2, 3, 3, 1, 2, 50, 50, 1, 1]
    explore = [True, False, True, False, True, False, True, True, True, False, False, True]
    spec = {"episodes": _episodes(rng, [None], 3, 5.0), "steps": steps, "cfg": cfg, "n_actions": 4, "held": 0,
            "seeds": _seeds(steps, cfg, explore, 777), "net": make_net(rng, (3, 16, 4), scale=3.0)}
    probes.append(_step_probe("dqn_step at steps 1, 2, 3 and 50 of a schedule from 0.9 to 0.1 over 2 steps, with "
                              "draws just below and above epsilon", spec))
    return probes


EXERCISES = [
    Exercise("ReplayBuffer", probes_ReplayBuffer),
    Exercise("linear_epsilon", probes_linear_epsilon),
    Exercise("td_target", probes_td_target),
    Exercise("huber_loss", probes_huber_loss),
    # dqn_update calls huber_loss: see the module docstring for how a wrong huber_loss is kept apart
    Exercise("dqn_update", probes_dqn_update),
    # dqn_step calls linear_epsilon: the reference's stands in for it, so a wrong schedule costs only linear_epsilon
    Exercise("dqn_step", probes_dqn_step, deps=("linear_epsilon",)),
    Exercise("double_dqn_target", probes_double_dqn_target),
    Exercise("dueling_aggregate", probes_dueling_aggregate),
    Exercise("SumTree", probes_SumTree),
    Exercise("importance_weights", probes_importance_weights),
]

# ---------------------------------------------------------------- known mistakes (each written once)

MISTAKES = [
    # ReplayBuffer
    Mistake("ReplayBuffer", "len counts every add, not the transitions kept",
            "self.size = min(self.size + 1, self.capacity)", "self.size = self.size + 1"),
    Mistake("ReplayBuffer", "the buffer stops storing once full (no wrap-around)",
            "self.pos = (self.pos + 1) % self.capacity", "self.pos = min(self.pos + 1, self.capacity - 1)"),
    Mistake("ReplayBuffer", "sample draws among all capacity slots, empty ones too (draw among the len(self) stored)",
            "self.rng.integers(0, self.size, size=batch_size)", "self.rng.integers(0, self.capacity, size=batch_size)"),
    Mistake("ReplayBuffer", "sample never draws the newest transition (rng.integers(0, n) already excludes n)",
            "self.rng.integers(0, self.size, size=batch_size)", "self.rng.integers(0, self.size - 1, size=batch_size)"),
    Mistake("ReplayBuffer", "sample draws with np.random instead of self.rng (not reproducible from the seed)",
            "self.rng.integers(0, self.size, size=batch_size)", "np.random.randint(0, self.size, size=batch_size)"),
    Mistake("ReplayBuffer", "get returns numpy arrays, not torch tensors",
            "return Batch(obs=torch.as_tensor(self.obs[idx]), actions=torch.as_tensor(self.actions[idx]),",
            "return Batch(obs=self.obs[idx], actions=self.actions[idx],"),
    Mistake("ReplayBuffer", "the actions are stored as floats (gather needs int64)",
            "self.actions = np.zeros(capacity, dtype=np.int64)", "self.actions = np.zeros(capacity, dtype=np.float32)"),
    Mistake("ReplayBuffer", "terminated and truncated swapped when stored",
            "self.terminated[i] = float(terminated)\n        self.truncated[i] = float(truncated)",
            "self.terminated[i] = float(truncated)\n        self.truncated[i] = float(terminated)"),
    Mistake("ReplayBuffer", "next_obs stored as obs (the next observation is lost)",
            "self.next_obs[i] = next_obs", "self.next_obs[i] = obs"),
    Mistake("ReplayBuffer", "the write position advances before storing (off by one)",
            "i = self.pos\n", "i = (self.pos + 1) % self.capacity\n"),
    # linear_epsilon
    Mistake("linear_epsilon", "epsilon keeps changing after decay_steps (clip the fraction at 1)",
            "min(1.0, step / decay_steps)", "(step / decay_steps)"),
    Mistake("linear_epsilon", "start and end swapped",
            "start + (end - start) *", "end + (start - end) *"),
    Mistake("linear_epsilon", "exponential instead of linear decay",
            "float(start + (end - start) * min(1.0, step / decay_steps))",
            "float(start * (end / start) ** min(1.0, step / decay_steps))"),
    Mistake("linear_epsilon", "integer division (step // decay_steps): epsilon jumps from start to end",
            "step / decay_steps", "step // decay_steps"),
    Mistake("linear_epsilon", "returns a tensor or array, not a float",
            "return float(start + (end - start) * min(1.0, step / decay_steps))",
            "return np.array([start + (end - start) * min(1.0, step / decay_steps)])"),
    # td_target
    Mistake("td_target", "no terminal mask: bootstrapping through terminated steps",
            "gamma * (1.0 - batch.terminated) * next_q", "gamma * next_q"),
    Mistake("td_target", "truncated treated as terminal (the mask must use terminated only: a time limit is not the end "
            "of the task)",
            "gamma * (1.0 - batch.terminated) * next_q",
            "gamma * (1.0 - torch.clamp(batch.terminated + batch.truncated, max=1.0)) * next_q"),
    Mistake("td_target", "gamma missing from the bootstrap term",
            "gamma * (1.0 - batch.terminated) * next_q", "(1.0 - batch.terminated) * next_q"),
    Mistake("td_target", "mean over actions instead of max", ".max(dim=1).values", ".mean(dim=1)"),
    Mistake("td_target", "min over actions instead of max", ".max(dim=1).values", ".min(dim=1).values"),
    Mistake("td_target", "the index of the best action (argmax) instead of its value (max)",
            ".max(dim=1).values", ".argmax(dim=1).float()"),
    Mistake("td_target", "the mask is inverted (bootstraps only at the end of episodes)",
            "(1.0 - batch.terminated)", "batch.terminated"),
    Mistake("td_target", "the target carries gradient (compute it under torch.no_grad() or .detach() it)",
            "    with torch.no_grad():\n        next_q = target_net(batch.next_obs).max(dim=1).values\n"
            "        return batch.rewards",
            "    if True:\n        next_q = target_net(batch.next_obs).max(dim=1).values\n        return batch.rewards"),
    Mistake("td_target", "Q of the current observations (batch.obs) instead of the next ones (batch.next_obs)",
            "target_net(batch.next_obs)", "target_net(batch.obs)"),
    Mistake("td_target", "the batch's rewards are changed in place (rewards += ...)",
            "return batch.rewards + gamma * (1.0 - batch.terminated) * next_q",
            "return batch.rewards.add_(gamma * (1.0 - batch.terminated) * next_q)"),
    # huber_loss
    Mistake("huber_loss", "squared error everywhere (0.5 x^2)",
            "torch.where(a <= delta, 0.5 * errors ** 2, delta * (a - 0.5 * delta))", "0.5 * errors ** 2"),
    Mistake("huber_loss", "x^2 without the factor 1/2", "0.5 * errors ** 2", "errors ** 2"),
    Mistake("huber_loss", "absolute error everywhere",
            "torch.where(a <= delta, 0.5 * errors ** 2, delta * (a - 0.5 * delta))", "a"),
    Mistake("huber_loss", "the linear part misses the factor delta (that is smooth_l1 with beta=delta)",
            "torch.where(a <= delta, 0.5 * errors ** 2, delta * (a - 0.5 * delta))",
            "torch.where(a <= delta, 0.5 * errors ** 2 / delta, a - 0.5 * delta)"),
    Mistake("huber_loss", "the linear part is delta * |x| (without - delta/2: the two pieces do not meet)",
            "delta * (a - 0.5 * delta)", "delta * a"),
    Mistake("huber_loss", "delta is ignored (always 1)",
            "torch.where(a <= delta, 0.5 * errors ** 2, delta * (a - 0.5 * delta))",
            "torch.where(a <= 1.0, 0.5 * errors ** 2, 1.0 * (a - 0.5 * 1.0))"),
    Mistake("huber_loss", "returns the mean (a scalar), not the elementwise loss",
            "return torch.where(a <= delta, 0.5 * errors ** 2, delta * (a - 0.5 * delta))",
            "return torch.where(a <= delta, 0.5 * errors ** 2, delta * (a - 0.5 * delta)).mean()"),
    Mistake("huber_loss", "the loss is detached (no gradient flows back to the errors)",
            "return torch.where(a <= delta, 0.5 * errors ** 2, delta * (a - 0.5 * delta))",
            "return torch.where(a <= delta, 0.5 * errors ** 2, delta * (a - 0.5 * delta)).detach()"),
    # dqn_update
    Mistake("dqn_update", "squared error instead of Huber", "losses = huber_loss(td_errors)",
            "losses = td_errors ** 2"),
    Mistake("dqn_update", "gradient norm not clipped (clip_grad_norm_ before optimizer.step())",
            "    torch.nn.utils.clip_grad_norm_(online_net.parameters(), max_grad_norm)\n", ""),
    Mistake("dqn_update", "the gradients are clipped after optimizer.step() (too late)",
            "    torch.nn.utils.clip_grad_norm_(online_net.parameters(), max_grad_norm)\n    optimizer.step()\n",
            "    optimizer.step()\n    torch.nn.utils.clip_grad_norm_(online_net.parameters(), max_grad_norm)\n"),
    Mistake("dqn_update", "each gradient value is clipped (clip_grad_value_) instead of the global norm",
            "clip_grad_norm_(", "clip_grad_value_("),
    Mistake("dqn_update", "max_grad_norm is ignored (always 10)",
            "clip_grad_norm_(online_net.parameters(), max_grad_norm)", "clip_grad_norm_(online_net.parameters(), 10.0)"),
    Mistake("dqn_update", "sum instead of mean over the batch",
            "loss = losses.mean() if weights is None else (weights * losses).mean()",
            "loss = losses.sum() if weights is None else (weights * losses).sum()"),
    Mistake("dqn_update", "max_a Q(s, a) instead of Q(s, a) of the taken action (use gather)",
            "q = online_net(batch.obs).gather(1, batch.actions.long().unsqueeze(1)).squeeze(1)",
            "q = online_net(batch.obs).max(dim=1).values"),
    Mistake("dqn_update", "optimizer.zero_grad() missing: gradients of earlier updates add up",
            "    optimizer.zero_grad()\n", ""),
    Mistake("dqn_update", "optimizer.step() missing: the network never changes", "    optimizer.step()\n", ""),
    Mistake("dqn_update", "the weights are ignored", "(weights * losses).mean()", "losses.mean()"),
    Mistake("dqn_update", "a weighted average (divided by the sum of the weights) instead of the mean of the "
            "weighted losses", "(weights * losses).mean()", "(weights * losses).sum() / weights.sum()"),
    Mistake("dqn_update", "the TD errors have the wrong sign (Q(s, a) - targets)",
            "td_errors = targets - q", "td_errors = q - targets"),
    Mistake("dqn_update", "the loss is returned as a tensor, not a float (use loss.item())",
            "return float(loss.item()), td_errors.detach()", "return loss, td_errors.detach()"),
    Mistake("dqn_update", "the TD errors are returned with gradient (.detach() them)",
            "return float(loss.item()), td_errors.detach()", "return float(loss.item()), td_errors"),
    # dqn_step
    Mistake("dqn_step", "truncated stored as terminal (store terminated as the step returned it: a time limit is not "
            "a terminal state)",
            "buffer.add(obs, action, reward, next_obs, terminated, truncated)",
            "buffer.add(obs, action, reward, next_obs, terminated or truncated, truncated)"),
    Mistake("dqn_step", "the reset's observation stored as next_obs (reset before storing: the target bootstraps "
            "from the next episode's first state)",
            "    buffer.add(obs, action, reward, next_obs, terminated, truncated)\n"
            "    episode_over = terminated or truncated\n    if episode_over:\n        next_obs, _ = env.reset()\n",
            "    episode_over = terminated or truncated\n    if episode_over:\n        next_obs, _ = env.reset()\n"
            "    buffer.add(obs, action, reward, next_obs, terminated, truncated)\n"),
    Mistake("dqn_step", "obs stored as next_obs",
            "buffer.add(obs, action, reward, next_obs, terminated, truncated)",
            "buffer.add(obs, action, reward, obs, terminated, truncated)"),
    Mistake("dqn_step", "no reset after a truncated step (reset on terminated OR truncated)",
            "    if episode_over:\n        next_obs, _ = env.reset()", "    if terminated:\n        next_obs, _ = env.reset()"),
    Mistake("dqn_step", "the observation is not advanced (the next step must act from the returned next_obs)",
            "return StepResult(next_obs, float(reward)", "return StepResult(obs, float(reward)"),
    Mistake("dqn_step", "after a reset, the next step acts from the ended episode's last observation (use the "
            "reset's observation)", "        next_obs, _ = env.reset()", "        env.reset()"),
    Mistake("dqn_step", "no exploration: always the greedy action",
            "    if rng.random() < epsilon:\n        action = int(rng.integers(env.action_space.n))\n    else:\n"
            "        with torch.no_grad():\n            action = int(",
            "    if True:\n        with torch.no_grad():\n            action = int("),
    Mistake("dqn_step", "epsilon inverted: explores with probability 1 - epsilon", "rng.random() < epsilon",
            "rng.random() > epsilon"),
    Mistake("dqn_step", "epsilon never decays (the schedule is read at step 0)",
            "linear_epsilon(step, cfg", "linear_epsilon(0, cfg"),
    Mistake("dqn_step", "learns before learning_starts (the buffer must hold enough transitions first)",
            'step >= cfg["learning_starts"] and step % cfg["train_every"] == 0', 'step % cfg["train_every"] == 0'),
    Mistake("dqn_step", "learns at every step from learning_starts on (train_every ignored)",
            'step >= cfg["learning_starts"] and step % cfg["train_every"] == 0', 'step >= cfg["learning_starts"]'),
    Mistake("dqn_step", "one gradient step per burst (gradient_steps ignored)",
            '        for _ in range(cfg["gradient_steps"]):\n            losses.append(',
            '        if True:\n            losses.append('),
    Mistake("dqn_step", "the greedy action is a tensor, not an int (int(...) of the argmax)",
            "action = int(q_net(torch.as_tensor(obs, dtype=torch.float32)[None]).argmax())",
            "action = q_net(torch.as_tensor(obs, dtype=torch.float32)[None]).argmax()"),
    # double_dqn_target
    Mistake("double_dqn_target", "max over the target network: that is plain DQN's target, not Double DQN's (pick a' "
            "= argmax of the ONLINE network, then evaluate it with the TARGET network)",
            "next_q = target_net(batch.next_obs).gather(1, best).squeeze(1)",
            "next_q = target_net(batch.next_obs).max(dim=1).values"),
    Mistake("double_dqn_target", "max over the online network (the online network must only choose a', the target "
            "network evaluates it)",
            "next_q = target_net(batch.next_obs).gather(1, best).squeeze(1)",
            "next_q = online_net(batch.next_obs).max(dim=1).values"),
    Mistake("double_dqn_target", "roles swapped: a' chosen by the target network and evaluated by the online network",
            "best = online_net(batch.next_obs).argmax(dim=1, keepdim=True)\n"
            "        next_q = target_net(batch.next_obs).gather(1, best).squeeze(1)",
            "best = target_net(batch.next_obs).argmax(dim=1, keepdim=True)\n"
            "        next_q = online_net(batch.next_obs).gather(1, best).squeeze(1)"),
    Mistake("double_dqn_target", "no terminal mask: bootstrapping through terminated steps",
            "gamma * (1.0 - batch.terminated) * next_q", "gamma * next_q"),
    Mistake("double_dqn_target", "truncated treated as terminal (mask with terminated only)",
            "gamma * (1.0 - batch.terminated) * next_q",
            "gamma * (1.0 - torch.clamp(batch.terminated + batch.truncated, max=1.0)) * next_q"),
    Mistake("double_dqn_target", "gamma missing from the bootstrap term",
            "gamma * (1.0 - batch.terminated) * next_q", "(1.0 - batch.terminated) * next_q"),
    Mistake("double_dqn_target", "the target carries gradient (compute it under torch.no_grad())",
            "    with torch.no_grad():\n        best", "    if True:\n        best"),
    Mistake("double_dqn_target", "a' chosen on the current observations (batch.obs) instead of the next ones",
            "best = online_net(batch.next_obs)", "best = online_net(batch.obs)"),
    # dueling_aggregate
    Mistake("dueling_aggregate", "no mean subtraction (Q = V + A): V and A are not identifiable, any constant can move "
            "between them", "value + advantages - advantages.mean(dim=1, keepdim=True)", "value + advantages"),
    Mistake("dueling_aggregate", "max subtraction instead of the mean (the paper's first variant; this exercise asks "
            "for the mean)", "advantages.mean(dim=1, keepdim=True)", "advantages.max(dim=1, keepdim=True).values"),
    Mistake("dueling_aggregate", "mean over the batch axis (dim=0) instead of over actions (dim=1)",
            "advantages.mean(dim=1, keepdim=True)", "advantages.mean(dim=0, keepdim=True)"),
    Mistake("dueling_aggregate", "mean over all elements instead of over each row's actions",
            "advantages.mean(dim=1, keepdim=True)", "advantages.mean()"),
    Mistake("dueling_aggregate", "V missing", "value + advantages - ", "advantages - "),
    Mistake("dueling_aggregate", "A.mean(dim=1) without keepdim=True: the (B,) means broadcast against (B, A) along "
            "the wrong axis", "advantages.mean(dim=1, keepdim=True)", "advantages.mean(dim=1)"),
    Mistake("dueling_aggregate", "the result is detached (Q must stay differentiable)",
            "return value + advantages - advantages.mean(dim=1, keepdim=True)",
            "return (value + advantages - advantages.mean(dim=1, keepdim=True)).detach()"),
    # SumTree
    Mistake("SumTree", "at a value equal to the sum of the priorities to the left, find went left: compare with >= "
            "(value >= left sum goes right, subtracting the left sum)", "values >= self.tree[left]",
            "values > self.tree[left]"),
    Mistake("SumTree", "find returns the node number, not the leaf index (leaf i is node capacity + i)",
            "return nodes - self.capacity", "return nodes"),
    Mistake("SumTree", "find does not subtract the left sum when it goes right",
            "values = np.where(go_right, values - self.tree[left], values)", "values = values"),
    Mistake("SumTree", "update adds the priority to the leaf instead of setting it",
            "self.tree[nodes] = priorities", "self.tree[nodes] += priorities"),
    Mistake("SumTree", "update repairs only the parents of the leaves, not every ancestor up to the root",
            "while nodes[0] >= 1:", "if nodes[0] >= 1:"),
    Mistake("SumTree", "update never recomputes the root (stops at node 2 and 3)",
            "while nodes[0] >= 1:", "while nodes[0] > 1:"),
    Mistake("SumTree", "total() sums every node (leaves and internal sums) instead of reading the root",
            "return float(self.tree[1])", "return float(self.tree.sum())"),
    Mistake("SumTree", "leaves stored one slot to the left (leaf i must be node capacity + i)",
            "nodes = np.asarray(indices, dtype=np.int64) + self.capacity",
            "nodes = np.asarray(indices, dtype=np.int64) + self.capacity - 1"),
    # importance_weights
    Mistake("importance_weights", "not normalized by the largest weight", "return w / w.max()", "return w"),
    Mistake("importance_weights", "normalized by the sum instead of the max", "return w / w.max()",
            "return w / w.sum()"),
    Mistake("importance_weights", "exponent +beta instead of -beta", "** (-beta)", "** beta"),
    Mistake("importance_weights", "normalized by the smallest weight instead of the largest", "return w / w.max()",
            "return w / w.min()"),
    Mistake("importance_weights", "beta ignored (always 1)", "** (-beta)", "** (-1.0)"),
    Mistake("importance_weights", "probabilities not multiplied by n, but added", "(n * np.asarray", "(n + np.asarray"),
]

# ---------------------------------------------------------------- equivalent mutants
# Mutants of the solution that no check can kill, because they do not change what the exercise
# promises: (exercise, original line, mutated line or "*", why).

EQUIVALENT_MUTANTS = [
    ("huber_loss", "return torch.where(a <= delta, 0.5 * errors ** 2, delta * (a - 0.5 * delta))",
     "return torch.where(a < delta, 0.5 * errors ** 2, delta * (a - 0.5 * delta))",
     "at |x| = delta both pieces equal delta^2 / 2"),
    ("linear_epsilon", "return float(start + (end - start) * min(1.0, step / decay_steps))",
     "return float(start + (end - start) * min(1, step / decay_steps))", "min(1, f) and min(1.0, f) give the same float"),
    ("dqn_step", "if rng.random() < epsilon:", "if rng.random() <= epsilon:",
     "rng.random() equals epsilon with probability 0: exploring with probability epsilon either way"),
    ("dqn_step", 'if step >= cfg["learning_starts"] and step % cfg["train_every"] == 0:',
     'if step >= cfg["learning_starts"] and step % cfg["train_every"] <= 0:',
     "step % train_every is never negative (train_every >= 1): <= 0 and == 0 agree"),
] + [
    ("SumTree", "nodes = np.asarray(indices, dtype=np.int64) + self.capacity",
     f"nodes = np.asarray(indices, dtype=np.int64) {op} self.capacity",
     "leaf indices are below capacity, a power of two: i + capacity, i | capacity and i ^ capacity are equal")
    for op in ("|", "^")
] + [
    ("SumTree", "nodes = left + go_right", f"nodes = left {op} go_right",
     "left = 2 * nodes is even and go_right is 0 or 1: left + go_right, left | go_right and left ^ go_right are equal")
    for op in ("|", "^")
] + [
    ("SumTree", "while nodes[0] >= 1:   # all leaves are at the same depth: one level per iteration",
     "while nodes[ -1] >= 1:   # all leaves are at the same depth: one level per iteration",
     "all nodes of one iteration sit on the same level: the first and the last are both >= 1 or both not"),
    ("SumTree", "while nodes[0] < self.capacity:", "while nodes[ -1] < self.capacity:",
     "all nodes of one iteration sit on the same level: the first and the last are both leaves or both not"),
    ("SumTree", "self.tree[nodes] = self.tree[2 * nodes] + self.tree[2 * nodes + 1]",
     "self.tree[nodes] = self.tree[2 * nodes] + self.tree[2 * nodes | 1]", "2 * n is even: 2n + 1 equals 2n | 1"),
    ("SumTree", "self.tree[nodes] = self.tree[2 * nodes] + self.tree[2 * nodes + 1]",
     "self.tree[nodes] = self.tree[2 * nodes] + self.tree[2 * nodes ^ 1]", "2 * n is even: 2n + 1 equals 2n ^ 1"),
    ("SumTree", "return nodes - self.capacity", "return nodes % self.capacity",
     "the loop ends on leaves, nodes in [capacity, 2 * capacity): minus capacity equals modulo capacity"),
    ("SumTree", "return nodes - self.capacity", "return nodes ^ self.capacity",
     "the loop ends on leaves, nodes in [capacity, 2 * capacity) with capacity a power of two: the capacity bit "
     "is set and cleared by ^, so nodes ^ capacity equals nodes - capacity"),
]
