"""Hidden checks of chapter 07 (instructors only), run by the grader outside the student's kernel.

The reference of every exercise is the instructor's solution cell, extracted into
``solution_07_ddpg_td3_sac.py`` (``python -m autograder.verdict.extract 07_ddpg_td3_sac``). This file holds
what is *not* the solution: seeded inputs (tensors with ``requires_grad``, networks with explicit states,
optimizers, batches of transitions with terminated and truncated flags, all sent as data through
:mod:`autograder.verdict.wire`), the probes of each exercise, and the registry of known mistakes, each
written once as an edit of the solution.

Networks follow the notebook's convention: an actor maps obs (B, D) to a raw output u (B, A) that
``scale_action`` squashes; a critic maps ``cat([obs, act], -1)`` (B, D + A) to (B, 1). Noise that an
exercise needs is passed in explicitly, so every probe is deterministic.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from autograder.verdict import wire
from autograder.verdict.core import Exercise, Mistake, Probe, StudentRaised, diff, scalar_trace
from autograder.verdict.wire import Raised

CHAPTER = "07_ddpg_td3_sac"
PREAMBLE = ("import math\nimport numpy as np\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn")

# ---------------------------------------------------------------- helpers


def _t(x, grad=False):
    t = torch.as_tensor(np.asarray(x), dtype=torch.float32).clone()
    return t.requires_grad_(True) if grad else t


def _state(sizes, seed, gain=1.0):
    """The parameters of a ReLU MLP (the layout ``wire.Net`` builds), from a seed, scaled by ``gain``."""
    torch.manual_seed(seed)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    net = nn.Sequential(*layers)
    return {k: (v.detach() * gain).numpy().copy() for k, v in net.state_dict().items()}


def _tensor_trace(x):
    """A returned tensor as (kind, shape, values, requires_grad)."""
    if isinstance(x, torch.Tensor):
        return ("tensor", tuple(x.shape), x.detach().numpy().astype(np.float64), bool(x.requires_grad))
    return (type(x).__name__, None, None, None)


_scalar = scalar_trace  # (kind, value, requires_grad) of a returned loss


def _grad(t):
    g = getattr(t, "grad", None)
    return None if g is None else g.detach().numpy().astype(np.float64)


def _target_compare(label, shape, atol, grad_allowed=False):
    def compare(got, expected):
        if isinstance(got, Raised):
            return f"{label}: raised {got}"
        kind, gshape, values, rg = got
        if kind != "tensor":
            return f"{label}: expected a float tensor, got a {kind}"
        if gshape != shape:
            hint = (" (a (B, 1) critic output added to (B,) rewards broadcasts to (B, B): squeeze(-1) first)"
                    if len(gshape) == 2 else "")
            return f"{label}: expected shape {shape}, got {gshape}{hint}"
        problem = diff(values, expected[2], atol, 1e-5, f"the value of {label}")
        if problem:
            return problem
        if rg and not grad_allowed:
            return f"{label}: the result carries gradient (compute the target under torch.no_grad(): it is a label)"
        if not rg and grad_allowed:
            return f"{label}: the result carries no gradient"
        return None
    return compare


def _batch(rng, B, D, A, low, high, flags="mixed"):
    """A Batch of random transitions; ``flags``: 'mixed' (some terminated, some truncated, never both on one
    row, so that every mask mistake shows), 'none', 'terminated', 'truncated'."""
    term, trunc = np.zeros(B), np.zeros(B)
    if flags == "mixed":
        kind = rng.integers(0, 3, size=B)
        term[kind == 1] = 1.0
        trunc[kind == 2] = 1.0
        if B >= 3:
            term[0], trunc[0], term[1], trunc[1], term[2], trunc[2] = 0, 0, 1, 0, 0, 1
    elif flags == "terminated":
        term[:] = 1.0
    elif flags == "truncated":
        trunc[:] = 1.0
    return {"obs": _t(rng.normal(size=(B, D))), "act": _t(rng.uniform(low, high, size=(B, A))),
            "rew": _t(rng.normal(-1.0, 2.0, size=B)), "next_obs": _t(rng.normal(size=(B, D))),
            "terminated": _t(term), "truncated": _t(trunc)}


# ---------------------------------------------------------------- scale_action


def probes_scale_action() -> list[Probe]:
    rng = np.random.default_rng(701)
    cases = [("the notebook's example", np.array([[0.0], [np.arctanh(0.5)], [20.0], [-20.0]]), -2.0, 2.0),
             ("bounds [0, 1], u = 0", np.zeros((2, 1)), 0.0, 1.0),
             ("a batch of one, bounds [-1, 3]", np.array([[0.7]]), -1.0, 3.0),
             ("saturated tanh, u = +-40", np.array([[40.0, -40.0], [-40.0, 40.0]]), -0.5, 2.5)]
    for i in range(10):
        B, A = int(rng.integers(1, 65)), int(rng.integers(1, 4))
        low = float(rng.uniform(-3, 1))
        high = low + float(rng.uniform(0.5, 4))
        if i % 3 == 0:
            low, high = -abs(high), abs(high)
        cases.append((f"random u #{i} ({B}x{A}), bounds [{low:.2f}, {high:.2f}]", rng.normal(0, 2, size=(B, A)), low, high))
    probes = []
    for label, u, low, high in cases:
        label = f"scale_action(u, low, high) on {label}"

        def run(s, u=u, low=low, high=high):
            r = s.call("scale_action", _t(u, grad=True), low, high)
            return _tensor_trace(r.value)
        probes.append(Probe(label, run, _target_compare(label, u.shape, 1e-6, grad_allowed=True), atol=1e-6, rtol=1e-5))
    return probes


# ---------------------------------------------------------------- ou_noise_step


def probes_ou_noise_step() -> list[Probe]:
    rng = np.random.default_rng(702)
    cases = [("the notebook's example", 1.0, 0.5, {}),
             ("an array, mu=1, dt=0.25", np.array([0.5, -1.0]), np.array([1.0, 0.0]),
              dict(theta=1.0, sigma=0.5, dt=0.25, mu=1.0)),
             ("x = mu, no noise (stays)", np.array([0.3]), np.array([0.0]), dict(mu=0.3, dt=0.5))]
    for i in range(12):
        A = int(rng.integers(1, 5))
        x = rng.normal(0, 1, size=A) if i % 4 else float(rng.normal())
        noise = rng.normal(size=A) if i % 4 else float(rng.normal())
        kw = dict(theta=float(rng.uniform(0.05, 1.0)), sigma=float(rng.uniform(0.05, 1.0)),
                  dt=float(rng.choice([0.01, 0.05, 0.1, 0.5, 1.0])), mu=float(rng.normal()) if i % 2 else 0.0)
        cases.append((f"random case #{i}", x, noise, kw))
    probes = []
    for label, x, noise, kw in cases:
        label = f"ou_noise_step(x, noise, {', '.join(f'{k}={v:.3g}' for k, v in kw.items())}) on {label}"

        def run(s, x=x, noise=noise, kw=kw):
            x_in = np.array(x, dtype=np.float64) if isinstance(x, np.ndarray) else x
            r = s.call("ou_noise_step", x_in, noise, **kw)
            v = r.value
            ok = isinstance(v, (int, float, np.integer, np.floating, np.ndarray)) and not isinstance(v, (bool, np.bool_))
            value = np.asarray(v, dtype=np.float64) if ok else f"not a number or array: {v!r:.60}"
            changed = isinstance(x, np.ndarray) and not np.array_equal(np.asarray(r.args_after[0]), x)
            return value, changed

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            if isinstance(got[0], str):
                return f"{label}: {got[0]}"
            return diff(got[0], expected[0], 1e-10, 1e-10, label) or (
                f"{label}: changed its argument x in place (return a new array)" if got[1] else None)
        probes.append(Probe(label, run, compare, atol=1e-10, rtol=1e-10))
    return probes


# ---------------------------------------------------------------- ddpg_target


def _target_cases(seed, n_random, extra_noise=False):
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n_random):
        B, D, A = (1 if i == 0 else int(rng.integers(2, 65))), int(rng.integers(1, 5)), int(rng.integers(1, 3))
        low = float(rng.choice([-2.0, -1.0, -0.5]))
        high = -low if i % 2 else low + float(rng.uniform(1.0, 3.0))
        h = int(rng.integers(4, 17))
        gain = 3.0 if i == 3 else 1.0   # a saturated actor
        cases.append(dict(label=f"random batch #{i} (B={B}, D={D}, A={A}, bounds [{low:g}, {high:.2f}])", B=B, D=D, A=A,
                          low=low, high=high, h=h, gamma=float(rng.uniform(0.9, 0.999)),
                          actor=_state((D, h, A), 1000 + i, gain), critic=_state((D + A, h, 1), 2000 + i),
                          critic2=_state((D + A, h, 1), 3000 + i), batch=_batch(rng, B, D, A, low, high),
                          noise=rng.normal(0, 1.5, size=(B, A))))
    for flags in ("terminated", "truncated", "none"):
        B, D, A, h = 5, 3, 1, 8
        cases.append(dict(label=f"a batch of 5 all {flags if flags != 'none' else 'not done'}", B=B, D=D, A=A,
                          low=-2.0, high=2.0, h=h, gamma=0.99, actor=_state((D, h, A), 77), critic=_state((D + A, h, 1), 78),
                          critic2=_state((D + A, h, 1), 79), batch=_batch(rng, B, D, A, -2.0, 2.0, flags),
                          noise=rng.normal(0, 1.5, size=(B, A))))
    return cases


def probes_ddpg_target() -> list[Probe]:
    probes = []
    for c in _target_cases(703, 10):
        label = f"ddpg_target(...) on {c['label']}, gamma={c['gamma']:.3f}"

        def run(s, c=c):
            args = (wire.Net((c["D"], c["h"], c["A"]), state=c["actor"]),
                    wire.Net((c["D"] + c["A"], c["h"], 1), state=c["critic"]),
                    wire.Record("Batch", c["batch"]), c["gamma"], c["low"], c["high"])
            return _tensor_trace(s.call("ddpg_target", *args, deps=["scale_action"]).value)
        probes.append(Probe(label, run, _target_compare(label, (c["B"],), 1e-5), atol=1e-5, rtol=1e-5))
    return probes


# ---------------------------------------------------------------- actor_loss


def _loss_and_gradient_problem(label, got, expected, wrt: str, hint: str) -> str | None:
    """A loss answered as ``((kind, value, requires_grad), gradient with respect to wrt)``: a scalar
    tensor equal to the reference's, whose gradient reaches ``wrt`` and equals the reference's."""
    kind, value, rg = got[0]
    if kind != "scalar":
        return f"{label}: expected a scalar tensor (0-d), got a {kind}"
    problem = diff(value, expected[0][1], 1e-5, 1e-5, f"the value of {label}")
    if problem:
        return problem
    if not rg or got[1] is None:
        return f"{label}: no gradient reached {wrt} ({hint})"
    return diff(got[1], expected[1], 1e-6, 1e-5, f"the gradient of {label} with respect to {wrt}")


def probes_actor_loss() -> list[Probe]:
    rng = np.random.default_rng(704)
    cases = []
    for i in range(10):
        B, D, A, h = (1 if i == 0 else int(rng.integers(2, 65))), int(rng.integers(1, 5)), int(rng.integers(1, 3)), 8
        cases.append((f"random batch #{i} (B={B}, D={D}, A={A})", D, A, h, _state((D + A, h, 1), 4000 + i),
                      rng.normal(size=(B, D)), rng.uniform(-2, 2, size=(B, A))))
    probes = []
    for label, D, A, h, critic, obs, act in cases:
        label = f"actor_loss(critic, obs, actions) on {label}"

        def run(s, D=D, A=A, h=h, critic=critic, obs=obs, act=act):
            r = s.call("actor_loss", wire.Net((D + A, h, 1), state=critic), _t(obs), _t(act, grad=True), backward=True)
            return _scalar(r.value), _grad(r.args_after[2])

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            return _loss_and_gradient_problem(label, got, expected, "the actions",
                                              "do not detach them: the actor learns through them")
        probes.append(Probe(label, run, compare, atol=1e-6, rtol=1e-5))
    return probes


# ---------------------------------------------------------------- polyak_update


def _states_compare(label, names):
    def compare(got, expected):
        if isinstance(got, Raised):
            return f"{label}: raised {got}"
        if got[0] is not None:
            return f"{label}: should return None, got {got[0]}"
        for which, g, e in zip(names, got[1:], expected[1:]):
            for k in e:
                problem = diff(g.get(k), e[k], 1e-5, 1e-5, f"the {which}'s parameter {k!r} after {label}")
                if problem:
                    return problem
        return None
    return compare


def probes_polyak_update() -> list[Probe]:
    rng = np.random.default_rng(705)
    cases = [("two linear layers, tau=0.1", (2, 1), 0.1), ("tau=0 (the target stays)", (3, 4, 2), 0.0),
             ("tau=1 (the target becomes a copy)", (3, 4, 2), 1.0)]
    for i in range(8):
        sizes = tuple(int(n) for n in rng.integers(1, 9, size=int(rng.integers(2, 5))))
        cases.append((f"random networks #{i} {sizes}", sizes, float(rng.choice([0.005, 0.01, 0.05, 0.2, 0.7]))))
    probes = []
    for i, (label, sizes, tau) in enumerate(cases):
        label = f"polyak_update(target, online, tau={tau:g}) on {label}"
        target, online = _state(sizes, 5000 + i), _state(sizes, 6000 + i)

        def run(s, sizes=sizes, tau=tau, target=target, online=online):
            r = s.call("polyak_update", wire.Net(sizes, state=target), wire.Net(sizes, state=online), tau)
            return (r.value, dict(r.args_after[0]["state"]), dict(r.args_after[1]["state"]))
        probes.append(Probe(label, run, _states_compare(label, ("target", "online network")), atol=1e-5, rtol=1e-5))
    return probes


# ---------------------------------------------------------------- td3_target


def probes_td3_target() -> list[Probe]:
    cases = _target_cases(706, 10)
    rng = np.random.default_rng(7060)
    probes = []
    for i, c in enumerate(cases):
        policy_noise = float(rng.choice([0.2, 0.4, 0.6]))
        noise_clip = float(rng.choice([0.3, 0.5, 1.0]))
        label = f"td3_target(...) on {c['label']}, policy_noise={policy_noise:g}, noise_clip={noise_clip:g}"

        def run(s, c=c, pn=policy_noise, nc=noise_clip):
            args = (wire.Net((c["D"], c["h"], c["A"]), state=c["actor"]),
                    wire.Net((c["D"] + c["A"], c["h"], 1), state=c["critic"]),
                    wire.Net((c["D"] + c["A"], c["h"], 1), state=c["critic2"]),
                    wire.Record("Batch", c["batch"]), c["gamma"], c["low"], c["high"], _t(c["noise"]), pn, nc)
            return _tensor_trace(s.call("td3_target", *args, deps=["scale_action"]).value)
        probes.append(Probe(label, run, _target_compare(label, (c["B"],), 1e-5), atol=1e-5, rtol=1e-5))
    return probes


# ---------------------------------------------------------------- td3_update


def probes_td3_update() -> list[Probe]:
    rng = np.random.default_rng(707)
    # (step, policy_delay, optimizer kind, lr, tau, B)
    specs = [(0, 2, "Adam", 1e-2, 0.1, 16), (1, 2, "Adam", 1e-2, 0.1, 16), (3, 3, "SGD", 0.05, 0.3, 8),
             (4, 3, "SGD", 0.05, 0.3, 8), (5, 1, "Adam", 3e-3, 0.05, 32), (7, 2, "SGD", 0.1, 0.5, 1),
             (2, 2, "SGD", 0.1, 0.2, 64), (8, 4, "Adam", 1e-2, 0.01, 12), (9, 4, "Adam", 1e-2, 0.01, 12),
             (6, 3, "SGD", 0.2, 0.7, 5)]
    probes = []
    for i, (step, delay, kind, lr, tau, B) in enumerate(specs):
        D, A, h = int(rng.integers(1, 4)), int(rng.integers(1, 3)), 8
        low, high = (-2.0, 2.0) if i % 2 else (-1.0, 0.5)
        states = [_state((D, h, A), 7000 + i), _state((D + A, h, 1), 7100 + i), _state((D + A, h, 1), 7200 + i),
                  _state((D, h, A), 7300 + i), _state((D + A, h, 1), 7400 + i), _state((D + A, h, 1), 7500 + i)]
        batch = _batch(rng, B, D, A, low, high)
        y = rng.normal(-2.0, 2.0, size=B)
        label = (f"td3_update(...) with step={step}, policy_delay={delay}, {kind} lr={lr:g}, tau={tau:g}, B={B}, "
                 f"bounds [{low:g}, {high:g}]")

        def run(s, D=D, A=A, h=h, states=states, batch=batch, y=y, step=step, delay=delay, kind=kind, lr=lr, tau=tau,
                low=low, high=high):
            sizes = [(D, h, A), (D + A, h, 1), (D + A, h, 1)] * 2
            nets = [wire.Net(sz, state=st) for sz, st in zip(sizes, states)]
            args = (*nets, wire.Optim(kind, 0, lr), wire.Optim(kind, 1, lr), wire.Optim(kind, 2, lr),
                    wire.Record("Batch", batch), _t(y), step, delay, tau, low, high)
            r = s.call("td3_update", *args)
            v = r.value
            if not isinstance(v, dict) or set(v) != {"critic_loss", "actor_loss"}:
                stats = f"not a dict with the keys 'critic_loss' and 'actor_loss': {v!r:.80}"
            else:
                stats = {k: (None if v[k] is None else float(v[k])) for k in v}
            return (stats,) + tuple(dict(m["state"]) for m in r.args_after[:6])

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            stats, exp = got[0], expected[0]
            if isinstance(stats, str):
                return f"{label}: returned {stats}"
            problem = diff(stats["critic_loss"], exp["critic_loss"], 1e-5, 1e-5, f"critic_loss of {label}")
            if problem:
                return problem
            if (stats["actor_loss"] is None) != (exp["actor_loss"] is None):
                return (f"{label}: actor_loss should be {'None (not the actor turn)' if exp['actor_loss'] is None else 'a float'}"
                        f", got {stats['actor_loss']}")
            if exp["actor_loss"] is not None:
                problem = diff(stats["actor_loss"], exp["actor_loss"], 1e-5, 1e-5, f"actor_loss of {label}")
                if problem:
                    return problem
            names = ("actor", "critic1", "critic2", "actor's target", "critic1's target", "critic2's target")
            for which, g, e in zip(names, got[1:], expected[1:]):
                for k in e:
                    problem = diff(g.get(k), e[k], 1e-5, 1e-5, f"the {which} parameter {k!r} after {label}")
                    if problem:
                        return problem
            return None
        probes.append(Probe(label, run, compare, atol=1e-5, rtol=1e-5))
    return probes


EXERCISES = [
    Exercise("scale_action", probes_scale_action),
    Exercise("ou_noise_step", probes_ou_noise_step),
    Exercise("ddpg_target", probes_ddpg_target, deps=("scale_action",)),
    Exercise("actor_loss", probes_actor_loss),
    Exercise("polyak_update", probes_polyak_update),
    Exercise("td3_target", probes_td3_target, deps=("scale_action",)),
    Exercise("td3_update", probes_td3_update),
]

# ---------------------------------------------------------------- known mistakes (each written once)

MISTAKES = [
    Mistake("scale_action", "tanh without the rescaling to [low, high]",
            "return low + (high - low) * (torch.tanh(u) + 1.0) / 2.0", "return torch.tanh(u)"),
    Mistake("scale_action", "high * tanh(u) (right only for symmetric bounds)",
            "return low + (high - low) * (torch.tanh(u) + 1.0) / 2.0", "return high * torch.tanh(u)"),
    Mistake("scale_action", "a clamp instead of tanh (no squashing, no gradient outside the bounds)",
            "return low + (high - low) * (torch.tanh(u) + 1.0) / 2.0", "return u.clamp(low, high)"),
    Mistake("scale_action", "the result is detached (the actor gets no gradient through it)",
            "(torch.tanh(u) + 1.0) / 2.0", "(torch.tanh(u) + 1.0).detach() / 2.0"),
    Mistake("ou_noise_step", "sigma * dt instead of sigma * sqrt(dt)",
            "dt + sigma * math.sqrt(dt) * noise", "dt + sigma * dt * noise"),
    Mistake("ou_noise_step", "the pull goes away from mu (theta * (x - mu))",
            "return x + theta * (mu - x) * dt", "return x + theta * (x - mu) * dt"),
    Mistake("ou_noise_step", "mu is ignored (the noise is pulled towards 0)",
            "return x + theta * (mu - x) * dt", "return x + theta * (0.0 - x) * dt"),
    Mistake("ou_noise_step", "x is changed in place (x += ...)",
            "return x + theta * (mu - x) * dt + sigma * math.sqrt(dt) * noise",
            "x += theta * (mu - x) * dt + sigma * math.sqrt(dt) * noise\n    return x"),
    Mistake("ddpg_target", "the time limit treated as terminal (only `terminated` may stop the bootstrap)",
            "gamma * (1.0 - batch.terminated) * next_q",
            "gamma * (1.0 - torch.maximum(batch.terminated, batch.truncated)) * next_q"),
    Mistake("ddpg_target", "no terminal mask (bootstrapping through a terminal state)",
            "gamma * (1.0 - batch.terminated) * next_q", "gamma * next_q"),
    Mistake("ddpg_target", "the target carries gradient (no torch.no_grad())",
            "        next_q = critic_targ(", "    next_q = critic_targ("),
    Mistake("ddpg_target", "the critic's (B, 1) output is not squeezed: the target broadcasts to (B, B)",
            "torch.cat([batch.next_obs, next_act], dim=-1)).squeeze(-1)", "torch.cat([batch.next_obs, next_act], dim=-1))"),
    Mistake("ddpg_target", "the stored action instead of the target actor's action at the next state",
            "next_act = scale_action(actor_targ(batch.next_obs), low, high)", "next_act = batch.act"),
    Mistake("ddpg_target", "gamma missing from the bootstrap",
            "batch.rew + gamma * (1.0", "batch.rew + (1.0"),
    Mistake("actor_loss", "the sign: +mean Q descends the critic",
            "return -critic(", "return critic("),
    Mistake("actor_loss", "a sum over the batch instead of the mean",
            "dim=-1)).mean()", "dim=-1)).sum()"),
    Mistake("actor_loss", "the actions are detached (no gradient reaches the actor)",
            "torch.cat([obs, actions], dim=-1)", "torch.cat([obs, actions.detach()], dim=-1)"),
    Mistake("polyak_update", "tau and 1 - tau swapped (the target jumps to the online network)",
            "t.mul_(1.0 - tau).add_(p, alpha=tau)", "t.mul_(tau).add_(p, alpha=1.0 - tau)"),
    Mistake("polyak_update", "the wrong direction: the online network is moved towards the target",
            "t.mul_(1.0 - tau).add_(p, alpha=tau)", "p.mul_(1.0 - tau).add_(t, alpha=tau)"),
    Mistake("polyak_update", "a hard copy (tau ignored)",
            "t.mul_(1.0 - tau).add_(p, alpha=tau)", "t.copy_(p)"),
    Mistake("td3_target", "max instead of min over the two critics",
            "torch.min(critic1_targ(x), critic2_targ(x))", "torch.max(critic1_targ(x), critic2_targ(x))"),
    Mistake("td3_target", "the smoothing noise is not clipped to +-noise_clip",
            "(policy_noise * noise).clamp(-noise_clip, noise_clip)", "(policy_noise * noise)"),
    Mistake("td3_target", "the smoothed action is not clipped to [low, high]",
            "+ smoothing).clamp(low, high)", "+ smoothing)"),
    Mistake("td3_target", "the time limit treated as terminal (only `terminated` may stop the bootstrap)",
            "gamma * (1.0 - batch.terminated) * next_q",
            "gamma * (1.0 - torch.maximum(batch.terminated, batch.truncated)) * next_q"),
    Mistake("td3_target", "only the first critic (no clipped double-Q)",
            "torch.min(critic1_targ(x), critic2_targ(x))", "critic1_targ(x)"),
    Mistake("td3_target", "no target policy smoothing (the noise is ignored)",
            "smoothing = (policy_noise * noise).clamp(-noise_clip, noise_clip)", "smoothing = 0.0"),
    Mistake("td3_target", "the target carries gradient (no torch.no_grad())",
            "        next_q = torch.min(", "    next_q = torch.min("),
    Mistake("td3_target", "the critic's (B, 1) output is not squeezed: the target broadcasts to (B, B)",
            "torch.min(critic1_targ(x), critic2_targ(x)).squeeze(-1)", "torch.min(critic1_targ(x), critic2_targ(x))"),
    Mistake("td3_update", "no delay: the actor and the targets are updated at every step",
            "if step % policy_delay == 0:", "if True:"),
    Mistake("td3_update", "the delay is off by one ((step + 1) % policy_delay)",
            "if step % policy_delay == 0:", "if (step + 1) % policy_delay == 0:"),
    Mistake("td3_update", "only the actor's target is moved (the critics' targets never follow)",
            "((actor_targ, actor), (critic1_targ, critic1), (critic2_targ, critic2))", "((actor_targ, actor),)"),
    Mistake("td3_update", "the actor climbs the second critic instead of the first",
            "loss = -critic1(", "loss = -critic2("),
    Mistake("td3_update", "the sign of the actor loss (+mean Q)",
            "loss = -critic1(", "loss = critic1("),
    Mistake("td3_update", "the critics' (B, 1) outputs broadcast against y (B,) in the MSE",
            "F.mse_loss(critic1(x).squeeze(-1), y) + F.mse_loss(critic2(x).squeeze(-1), y)",
            "F.mse_loss(critic1(x), y) + F.mse_loss(critic2(x), y)"),
    Mistake("td3_update", "Polyak with tau and 1 - tau swapped",
            "t.mul_(1.0 - tau).add_(p, alpha=tau)", "t.mul_(tau).add_(p, alpha=1.0 - tau)"),
]


# ---------------------------------------------------------------- squashed_gaussian (07b)


def probes_squashed_gaussian() -> list[Probe]:
    rng = np.random.default_rng(708)
    cases = [("the notebook's example", np.zeros((2, 1)), np.zeros((2, 1)), np.array([[0.0], [1.0]])),
             ("saturated samples, u = +-20 and +-30", np.array([[20.0, -30.0], [-20.0, 30.0]]), np.zeros((2, 2)),
              np.zeros((2, 2))),
             ("a batch of one, 3 dimensions", np.array([[0.3, -1.2, 2.0]]), np.array([[-0.5, 0.2, -2.0]]),
              np.array([[1.5, -0.3, 0.7]]))]
    for i in range(10):
        B, A = int(rng.integers(2, 65)), int(rng.integers(1, 4))
        cases.append((f"random batch #{i} (B={B}, A={A})", rng.normal(0, 1.5, size=(B, A)),
                      rng.uniform(-3, 1, size=(B, A)), rng.normal(size=(B, A))))
    probes = []
    for label, mean, log_std, noise in cases:
        label = f"squashed_gaussian(mean, log_std, noise) on {label}"
        B, A = mean.shape

        def run(s, mean=mean, log_std=log_std, noise=noise):
            r = s.call("squashed_gaussian", _t(mean, grad=True), _t(log_std, grad=True), _t(noise))
            v = r.value
            if not isinstance(v, (tuple, list)) or len(v) != 2:
                return f"expected a tuple (action, log_prob), got {type(v).__name__}"
            return _tensor_trace(v[0]), _tensor_trace(v[1])

        def compare(got, expected, label=label, B=B, A=A):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            if isinstance(got, str):
                return f"{label}: {got}"
            problem = _target_compare(f"the action of {label}", (B, A), 1e-5, grad_allowed=True)(got[0], expected[0])
            if problem:
                return problem
            if got[1][0] == "tensor" and got[1][2] is not None and not np.all(np.isfinite(got[1][2])):
                return (f"the log-probability of {label} is not finite: use the stable correction "
                        "2 * (log 2 - u - softplus(-2u)), not log(1 - tanh(u)^2)")
            return _target_compare(f"the log-probability of {label}", (B,), 1e-4, grad_allowed=True)(got[1], expected[1])
        probes.append(Probe(label, run, compare, key=_finite_key, atol=1e-4, rtol=1e-5))
    return probes


def _finite_key(trace):
    """For naming a mistake: infinities and NaNs as large numbers, so that two answers that both overflow
    the same way agree (NaN never equals NaN)."""
    if not isinstance(trace, tuple) or len(trace) != 2:
        return trace
    out = []
    for t in trace:
        if isinstance(t, tuple) and len(t) == 4 and isinstance(t[2], np.ndarray):
            t = t[:2] + (np.nan_to_num(t[2], nan=1e30, posinf=2e30, neginf=-2e30),) + t[3:]
        out.append(t)
    return tuple(out)


# ---------------------------------------------------------------- sac_target (07b)


def probes_sac_target() -> list[Probe]:
    cases = _target_cases(709, 10)
    rng = np.random.default_rng(7090)
    probes = []
    for c in cases:
        alpha = float(rng.choice([0.0, 0.05, 0.2, 1.0]))
        next_act = rng.uniform(c["low"], c["high"], size=(c["B"], c["A"]))
        next_logp = rng.normal(-1.0, 1.5, size=c["B"])
        label = f"sac_target(...) on {c['label']}, gamma={c['gamma']:.3f}, alpha={alpha:g}"

        def run(s, c=c, alpha=alpha, next_act=next_act, next_logp=next_logp):
            args = (wire.Net((c["D"] + c["A"], c["h"], 1), state=c["critic"]),
                    wire.Net((c["D"] + c["A"], c["h"], 1), state=c["critic2"]),
                    wire.Record("Batch", c["batch"]), _t(next_act), _t(next_logp), c["gamma"], alpha)
            return _tensor_trace(s.call("sac_target", *args).value)
        probes.append(Probe(label, run, _target_compare(label, (c["B"],), 1e-5), atol=1e-5, rtol=1e-5))
    return probes


# ---------------------------------------------------------------- sac_actor_loss (07b)


def _loss_probe(fn, label, args, grad_names, atol=1e-6):
    """A scalar loss called with backward: its value and the gradients of the tensor arguments listed in
    ``grad_names`` ({argument index: name}); a name starting with '!' must receive no gradient."""
    def run(s):
        r = s.call(fn, *args(), backward=True)
        return (_scalar(r.value),) + tuple(_grad(r.args_after[i]) for i in grad_names)

    def compare(got, expected):
        if isinstance(got, Raised):
            return f"{label}: raised {got}"
        kind, value, rg = got[0]
        if kind != "scalar":
            return f"{label}: expected a scalar tensor (0-d), got a {kind}"
        problem = diff(value, expected[0][1], atol, 1e-5, f"the value of {label}")
        if problem:
            return problem
        if not rg:
            return f"{label}: the result carries no gradient"
        for name, g, e in zip(grad_names.values(), got[1:], expected[1:]):
            if name.startswith("!"):
                if g is not None and np.any(g != 0):
                    return f"{label}: gradient reached {name[1:]}: it is data here (detach it)"
                continue
            if g is None:
                return f"{label}: no gradient reached {name}"
            problem = diff(g, e, atol, 1e-5, f"the gradient of {label} with respect to {name}")
            if problem:
                return problem
        return None
    return Probe(label, run, compare, atol=atol, rtol=1e-5)


def probes_sac_actor_loss() -> list[Probe]:
    rng = np.random.default_rng(710)
    cases = [("the notebook's example", [1.0, -2.0], [0.0, -1.0], [-1.0, 0.5], 0.2),
             ("a batch of one", [0.5], [0.7], [-0.3], 1.0), ("alpha = 0", [1.0, 2.0, -1.0], [0.0, 3.0, -2.0], [1.0, 2.0, 3.0], 0.0)]
    for i in range(10):
        B = int(rng.integers(2, 65))
        cases.append((f"random batch #{i} (B={B})", rng.normal(size=B) * 5, rng.normal(size=B) * 5,
                      rng.normal(-1, 1.5, size=B), float(rng.choice([0.01, 0.1, 0.5, 2.0]))))
    return [_loss_probe("sac_actor_loss", f"sac_actor_loss(q1, q2, logp, alpha={alpha:g}) on {label}",
                        lambda q1=q1, q2=q2, lp=lp, alpha=alpha: (_t(q1, True), _t(q2, True), _t(lp, True), alpha),
                        {0: "q1", 1: "q2", 2: "logp"})
            for label, q1, q2, lp, alpha in cases]


# ---------------------------------------------------------------- temperature_loss (07b)


def probes_temperature_loss() -> list[Probe]:
    rng = np.random.default_rng(711)
    cases = [("the notebook's example", float(np.log(0.5)), [-0.5, -1.5], -1.0),
             ("a batch of one", 0.0, [-2.0], -1.0), ("entropy exactly at the target", -1.0, [1.0, 1.0], -1.0)]
    for i in range(10):
        B = int(rng.integers(1, 65))
        cases.append((f"random batch #{i} (B={B})", float(rng.normal(-1, 1.5)), rng.normal(-1, 2, size=B),
                      float(-rng.integers(1, 7))))
    return [_loss_probe("temperature_loss",
                        f"temperature_loss(log_alpha={la:.3f}, logp, target_entropy={te:g}) on {label}",
                        lambda la=la, lp=lp, te=te: (_t(la, True), _t(lp, True), te),
                        {0: "log_alpha", 1: "!logp"})
            for label, la, lp, te in cases]


EXERCISES += [
    Exercise("squashed_gaussian", probes_squashed_gaussian),
    Exercise("sac_target", probes_sac_target),
    Exercise("sac_actor_loss", probes_sac_actor_loss),
    Exercise("temperature_loss", probes_temperature_loss),
]

MISTAKES += [
    Mistake("squashed_gaussian", "the tanh correction is missing (the log-probability of the Gaussian before the tanh)",
            "return torch.tanh(u), (normal_logp - correction).sum(dim=-1)", "return torch.tanh(u), normal_logp.sum(dim=-1)"),
    Mistake("squashed_gaussian", "the tanh correction is added instead of subtracted",
            "(normal_logp - correction)", "(normal_logp + correction)"),
    Mistake("squashed_gaussian", "the unstable log(1 - tanh(u)^2) (infinite once tanh saturates)",
            "correction = 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))", "correction = torch.log(1.0 - torch.tanh(u) ** 2)"),
    Mistake("squashed_gaussian", "the log-probability is not summed over the action dimensions",
            "(normal_logp - correction).sum(dim=-1)", "(normal_logp - correction)"),
    Mistake("squashed_gaussian", "no reparameterisation: the sample is detached (no gradient reaches the actor)",
            "u = mean + std * noise", "u = (mean + std * noise).detach()"),
    Mistake("squashed_gaussian", "log_std used as the standard deviation",
            "std = torch.exp(log_std)", "std = log_std"),
    Mistake("sac_target", "+alpha * log pi: the entropy bonus has the wrong sign",
            "(next_q - alpha * next_logp)", "(next_q + alpha * next_logp)"),
    Mistake("sac_target", "max instead of min over the two critics",
            "torch.min(critic1_targ(x), critic2_targ(x))", "torch.max(critic1_targ(x), critic2_targ(x))"),
    Mistake("sac_target", "the time limit treated as terminal (only `terminated` may stop the bootstrap)",
            "gamma * (1.0 - batch.terminated) *", "gamma * (1.0 - torch.maximum(batch.terminated, batch.truncated)) *"),
    Mistake("sac_target", "no entropy term (the target of TD3 without smoothing)",
            "(next_q - alpha * next_logp)", "next_q"),
    Mistake("sac_target", "the target carries gradient (no torch.no_grad())",
            "    with torch.no_grad():\n", "    if True:\n"),
    Mistake("sac_target", "the critic's (B, 1) output is not squeezed: the target broadcasts to (B, B)",
            "torch.min(critic1_targ(x), critic2_targ(x)).squeeze(-1)", "torch.min(critic1_targ(x), critic2_targ(x))"),
    Mistake("sac_actor_loss", "the sign: -alpha * logp + min Q",
            "return (alpha * logp - torch.min(q1, q2)).mean()", "return (torch.min(q1, q2) - alpha * logp).mean()"),
    Mistake("sac_actor_loss", "max instead of min of the critics",
            "torch.min(q1, q2)", "torch.max(q1, q2)"),
    Mistake("sac_actor_loss", "only the first critic",
            "torch.min(q1, q2)", "q1"),
    Mistake("sac_actor_loss", "alpha missing: the entropy term is not weighted by the temperature",
            "return (alpha * logp -", "return (logp -"),
    Mistake("temperature_loss", "alpha instead of log alpha in the loss",
            "-(log_alpha * (", "-(log_alpha.exp() * ("),
    Mistake("temperature_loss", "logp is not detached (this loss would train the actor)",
            "logp.detach() + target_entropy", "logp + target_entropy"),
    Mistake("temperature_loss", "the sign (alpha grows when the entropy is above its target)",
            "return -(log_alpha", "return (log_alpha"),
    Mistake("temperature_loss", "the target entropy subtracted instead of added",
            "logp.detach() + target_entropy", "logp.detach() - target_entropy"),
]

# ---------------------------------------------------------------- critic_loss (07c)


def _shape_text(shape) -> tuple[str, str]:
    """The ways a message may write a shape: as a tuple, (4, 1), or as torch.Size's list, [4, 1]."""
    return str(tuple(shape)), str(list(shape))


def probes_critic_loss() -> list[Probe]:
    rng = np.random.default_rng(712)
    # (label, q shape, target shape, targets carry gradient?)
    cases = [("the notebook's example", (4,), (4,), False), ("(B, 1) against (B,), B=4", (4, 1), (4,), False),
             ("(B,) against (B, 1), B=4", (4,), (4, 1), False),
             ("a batch of one: (1, 1) against (1,) (the broadcast value is right)", (1, 1), (1,), False),
             ("(B,) against (B + 1,)", (5,), (6,), False), ("equal (B, 1) shapes", (7, 1), (7, 1), False),
             ("(B, 2) against (B,): two critics' outputs stacked", (4, 2), (4,), False),
             ("a batch of one, equal shapes", (1,), (1,), False), ("targets that carry gradient", (6,), (6,), True),
             ("targets that carry gradient, and shapes (B, 1) against (B,)", (6, 1), (6,), True)]
    for i in range(11):
        B = int(rng.integers(1, 65))
        q_shape, y_shape = [((B,), (B,)), ((B, 1), (B,)), ((B,), (B, 1)), ((B, 1), (B, 1))][i % 4]
        cases.append((f"random batch #{i}, {q_shape} against {y_shape}", q_shape, y_shape, False))
    probes = []
    for label, q_shape, y_shape, y_grad in cases:
        q = rng.normal(-50.0, 20.0, size=q_shape)
        y = (q.reshape(-1)[: int(np.prod(y_shape))].reshape(y_shape) if np.prod(y_shape) <= q.size else
             rng.normal(size=y_shape)) + rng.normal(0.0, 3.0, size=y_shape)
        label = f"critic_loss(q_values {q_shape}, targets {y_shape}) on {label}"

        def run(s, q=q, y=y, y_grad=y_grad):
            try:
                r = s.call("critic_loss", _t(q, grad=True), _t(y, grad=y_grad), backward=True)
            except StudentRaised as exc:
                return ("raised", exc.raised.ename, exc.raised.evalue)
            return (_scalar(r.value), _grad(r.args_after[0]))

        def compare(got, expected, label=label, q_shape=q_shape, y_shape=y_shape):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            if expected[0] == "raised":
                names_shapes = tuple(q_shape) != tuple(y_shape)
                if got[0] != "raised":
                    why = (f"q_values {q_shape} and targets {y_shape} differ: they would broadcast" if names_shapes
                           else "the targets carry gradient (a label computed outside torch.no_grad())")
                    return f"{label}: expected a ValueError ({why}), got a value"
                if got[1] != "ValueError":
                    return f"{label}: expected a ValueError, got {got[1]}: {got[2]}"
                if names_shapes and not (any(t in got[2] for t in _shape_text(q_shape))
                                         and any(t in got[2] for t in _shape_text(y_shape))):
                    return f"{label}: the ValueError's message should name both shapes {q_shape} and {y_shape}: {got[2]!r}"
                return None
            if got[0] == "raised":
                return f"{label}: raised {got[1]}: {got[2]}"
            return _loss_and_gradient_problem(label, got, expected, "q_values", "do not detach them")

        def key(trace, q_shape=q_shape, y_shape=y_shape):  # a raise agrees on its kind and whether it names the shapes
            if isinstance(trace, tuple) and trace and trace[0] == "raised":
                named = all(any(t in trace[2] for t in _shape_text(s)) for s in (q_shape, y_shape))
                return ("raised", trace[1], named)
            return trace
        probes.append(Probe(label, run, compare, key=key, atol=1e-5, rtol=1e-5))
    return probes


# ---------------------------------------------------------------- select_action (07c)


def probes_select_action() -> list[Probe]:
    rng = np.random.default_rng(713)
    # (label, D, A, low, high, noise_std, noise, explore, gain)
    cases = [("the notebook's example at evaluation", 1, 1, -2.0, 2.0, 0.5, np.array([1.0]), False, 1.0),
             ("the notebook's example, exploring", 1, 1, -2.0, 2.0, 0.5, np.array([1.0]), True, 1.0),
             ("noise past the upper bound", 2, 1, -2.0, 2.0, 0.5, np.array([10.0]), True, 1.0),
             ("noise past the lower bound, asymmetric bounds [0, 1]", 3, 2, 0.0, 1.0, 0.3, np.array([-9.0, 0.2]), True, 1.0),
             ("large noise at evaluation (must be ignored)", 3, 2, -1.0, 3.0, 2.0, np.array([5.0, -5.0]), False, 1.0),
             ("a saturated actor, exploring", 2, 3, -1.0, 1.0, 0.2, np.array([0.5, -0.5, 3.0]), True, 30.0)]
    for i in range(10):
        D, A = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        low = float(rng.choice([-2.0, -1.0, 0.0, -0.5]))
        high = -low if (i % 2 and low < 0) else low + float(rng.uniform(0.5, 3.0))
        cases.append((f"random case #{i} (D={D}, A={A}, bounds [{low:g}, {high:.2f}])", D, A, low, high,
                      float(rng.choice([0.1, 0.3, 1.0])), rng.normal(0.0, 2.0, size=A), bool(i % 3), 1.0))
    probes = []
    for i, (label, D, A, low, high, noise_std, noise, explore, gain) in enumerate(cases):
        h = 8
        actor = _state((D, h, A), 8000 + i, gain)
        obs = rng.normal(size=D).astype(np.float32)
        label = f"select_action(actor, obs, {low:g}, {high:.2f}, noise_std={noise_std:g}, noise, explore={explore}) on {label}"

        def run(s, D=D, A=A, h=h, actor=actor, obs=obs, low=low, high=high, noise_std=noise_std, noise=noise,
                explore=explore):
            r = s.call("select_action", wire.Net((D, h, A), state=actor), obs.copy(), low, high, noise_std, noise.copy(),
                       explore)
            v = r.value
            if isinstance(v, torch.Tensor):
                return f"expected a NumPy array, got a torch tensor (return .numpy() of it, computed under torch.no_grad())"
            if not isinstance(v, np.ndarray) or v.dtype.kind != "f":
                return f"expected a float NumPy array, got {type(v).__name__}"
            return v.astype(np.float64)

        def compare(got, expected, label=label, A=A):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            if isinstance(got, str):
                return f"{label}: {got}"
            if got.shape != (A,):
                return f"{label}: expected shape {(A,)}, got {got.shape}"
            return diff(got, expected, 1e-5, 1e-5, label)
        probes.append(Probe(label, run, compare, atol=1e-5, rtol=1e-5))
    return probes


EXERCISES += [
    Exercise("critic_loss", probes_critic_loss),
    Exercise("select_action", probes_select_action),
]

MISTAKES += [
    Mistake("critic_loss", "no shape check: a (B, 1) critic output broadcasts against (B,) targets",
            "if tuple(q_values.shape) != tuple(targets.shape):", "if False:"),
    Mistake("critic_loss", "the numbers of elements compared instead of the shapes ((B, 1) and (B,) pass)",
            "if tuple(q_values.shape) != tuple(targets.shape):", "if q_values.numel() != targets.numel():"),
    Mistake("critic_loss", "only the batch dimension compared ((B, 1) and (B,) pass)",
            "if tuple(q_values.shape) != tuple(targets.shape):", "if q_values.shape[0] != targets.shape[0]:"),
    Mistake("critic_loss", "the sum of squared errors instead of the mean",
            "((q_values - targets) ** 2).mean()", "((q_values - targets) ** 2).sum()"),
    Mistake("critic_loss", "targets that carry gradient are accepted",
            "if targets.requires_grad:", "if False:"),
    Mistake("critic_loss", "the ValueError does not name the two shapes",
            "raise ValueError(f\"critic_loss: q_values has shape {tuple(q_values.shape)} but targets have shape \"\n"
            "                         f\"{tuple(targets.shape)}; they would broadcast",
            "raise ValueError(\"critic_loss: the shapes differ; they would broadcast"),
    Mistake("critic_loss", "the absolute error instead of the squared error",
            "((q_values - targets) ** 2).mean()", "(q_values - targets).abs().mean()"),
    Mistake("select_action", "noise at evaluation: the exploration noise is added even when explore is False",
            "if explore:", "if True:"),
    Mistake("select_action", "the noisy action is not clipped to the bounds",
            "action = np.clip(action + noise_std * noise, low, high)", "action = action + noise_std * noise"),
    Mistake("select_action", "the noise is not scaled by noise_std",
            "action + noise_std * noise", "action + noise"),
    Mistake("select_action", "the raw actor output, not squashed into the bounds",
            "(low + (high - low) * (torch.tanh(u) + 1.0) / 2.0).numpy()", "u.numpy()"),
    Mistake("select_action", "high * tanh(u) (right only for symmetric bounds)",
            "(low + (high - low) * (torch.tanh(u) + 1.0) / 2.0).numpy()", "(high * torch.tanh(u)).numpy()"),
    Mistake("select_action", "clipped to [-1, 1] instead of the action bounds",
            "np.clip(action + noise_std * noise, low, high)", "np.clip(action + noise_std * noise, -1.0, 1.0)"),
    Mistake("select_action", "noise only at evaluation (the test of explore is inverted)",
            "if explore:", "if not explore:"),
]


# ---------------------------------------------------------------- equivalent mutants
# (exercise, original line, mutated line, why): mutants no check can kill because they do not change
# what the exercise promises.

_LAST_IS_1 = ("the documented inputs are 2-D (obs (B, D), actions (B, A), a critic's output (B, 1)): dimension 1 "
              "is the last dimension, so dim=1 / squeeze(1) equal dim=-1 / squeeze(-1)")


def _last_dim_variants(exercise: str, line: str) -> list:
    """Each ``-1)`` of ``line`` written as ``1)`` or ``+1)``: the same axis for the 2-D tensors of the contract."""
    out, start = [], 0
    while (i := line.find("-1)", start)) >= 0:
        for repl in ("1)", "+1)"):
            out.append((exercise, line, line[:i] + repl + line[i + 3:], _LAST_IS_1))
        start = i + 3
    return out


EQUIVALENT_MUTANTS: list = [entry for exercise, line in [
    ("ddpg_target", "next_q = critic_targ(torch.cat([batch.next_obs, next_act], dim=-1)).squeeze(-1)"),
    ("actor_loss", "return -critic(torch.cat([obs, actions], dim=-1)).mean()"),
    ("td3_target", "x = torch.cat([batch.next_obs, next_act], dim=-1)"),
    ("td3_target", "next_q = torch.min(critic1_targ(x), critic2_targ(x)).squeeze(-1)"),
    ("td3_update", "x = torch.cat([batch.obs, batch.act], dim=-1)"),
    ("td3_update", "critic_loss = F.mse_loss(critic1(x).squeeze(-1), y) + F.mse_loss(critic2(x).squeeze(-1), y)"),
    ("td3_update", "loss = -critic1(torch.cat([batch.obs, act], dim=-1)).mean()"),
    ("squashed_gaussian", "return torch.tanh(u), (normal_logp - correction).sum(dim=-1)"),
    ("sac_target", "x = torch.cat([batch.next_obs, next_act], dim=-1)"),
    ("sac_target", "next_q = torch.min(critic1_targ(x), critic2_targ(x)).squeeze(-1)"),
] for entry in _last_dim_variants(exercise, line)] + [
    ("td3_update", "if step % policy_delay == 0:", "if step % policy_delay <= 0:",
     "step % policy_delay is never negative (policy_delay >= 1)"),
]
