"""Hidden checks of chapter 06 (instructors only), run by the grader outside the student's kernel.

The reference of every exercise is the instructor's solution cell, extracted into
``solution_06_ppo.py`` (``python -m autograder.verdict.extract 06_ppo``). This file holds what is
*not* the solution: seeded inputs (tensors with ``requires_grad``, networks, optimizers, frozen
batches, seeded generators, all sent as data through :mod:`autograder.verdict.wire`), the probes of
each exercise, and the registry of known mistakes, each written once as an edit of the solution.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from autograder.verdict import wire
from autograder.verdict.core import Exercise, Mistake, Probe, diff, scalar_trace
from autograder.verdict.wire import Raised

CHAPTER = "06_ppo"
PREAMBLE = ("import math\nimport numpy as np\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n"
            "from course_lib.policies import policy_distribution")

# ---------------------------------------------------------------- helpers


def _t(x, dtype=torch.float32, grad=False):
    t = torch.as_tensor(np.asarray(x), dtype=dtype).clone()
    return t.requires_grad_(True) if grad else t


_scalar = scalar_trace  # (kind, value, requires_grad) of a returned loss


def _grad(t):
    """The gradient an argument carried back (None when nothing reached it, or only zeros)."""
    g = getattr(t, "grad", None)
    if g is None:
        return None
    g = g.detach().numpy().astype(np.float64)
    return g


def _reached(t) -> bool:
    g = _grad(t)
    return g is not None and bool(np.any(g != 0))


def _loss_compare(label, atol, check_grads=True):
    def compare(got, expected):
        if isinstance(got, Raised):
            return f"{label}: raised {got}"
        kind, value, rg = got[0]
        if kind != "scalar":
            return f"{label}: expected a scalar tensor (0-d), got a {kind}"
        problem = diff(value, expected[0][1], atol, 1e-5, f"the value of {label}")
        if problem:
            return problem
        if not check_grads:
            return None
        if not rg:
            return f"{label}: the result carries no gradient (it must be differentiable with respect to logp_new)"
        problem = diff(got[1], expected[1], atol, 1e-5, f"the gradient of {label} with respect to logp_new")
        if problem:
            return problem
        for name, g, e in zip(("logp_old", "advantages"), got[2:], expected[2:]):
            if g and not e:
                return f"{label}: gradient reached {name}: it is data (detach it)"
        return None
    return compare


def _key(trace):
    """What must agree for a known mistake to be named: everything, rounded through the tolerance."""
    return trace


def _loss_batches(seed, n_random, scale_range=(0.3, 3.0)):
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n_random):
        B = int(rng.integers(2, 65))
        logp_old = -np.abs(rng.normal(1.0, 0.6, size=B))
        log_ratio = rng.uniform(-1, 1, size=B) * float(rng.uniform(*scale_range))
        adv = rng.normal(0.0, 2.0, size=B)
        cases.append((f"random batch #{i} (B={B})", logp_old + log_ratio, logp_old, adv))
    return rng, cases


# ---------------------------------------------------------------- surrogate


def probes_surrogate() -> list[Probe]:
    rng, cases = _loss_batches(600, 14)
    big = 300
    old_big = -np.abs(rng.normal(1.0, 0.6, size=big))
    cases += [
        ("the notebook's example", np.log([2.0, 0.5]), np.zeros(2), np.array([1.0, 2.0])),
        ("a batch of one, r=1.5, A=-2", np.array([np.log(1.5) - 0.7]), np.array([-0.7]), np.array([-2.0])),
        ("ratios exactly 1 (theta = theta_old: L is the mean advantage)", np.array([-0.3, -1.1, -2.5]),
         np.array([-0.3, -1.1, -2.5]), np.array([1.0, -2.0, 0.5])),
        ("extreme ratios e^6 and e^-6", np.array([6.0, -6.0, 6.0, -6.0]) - 2.0, np.full(4, -2.0),
         np.array([1.5, 1.5, -0.5, -0.5])),
        ("all advantages 0", np.log([0.5, 1.0, 2.0]), np.zeros(3), np.zeros(3)),
        (f"a batch of {big}", old_big + rng.uniform(-0.5, 0.5, size=big), old_big, rng.normal(0.0, 1.0, size=big)),
    ]
    probes = []
    for label, new, old, adv in cases:
        label = f"surrogate(...) on {label}"

        def run(s, new=new, old=old, adv=adv):
            args = (_t(new, grad=True), _t(old, grad=True), _t(adv, grad=True))
            r = s.call("surrogate", *args, backward=True)
            after = r.args_after
            return (_scalar(r.value), _grad(after[0]), _reached(after[1]), _reached(after[2]))

        probes.append(Probe(label, run, _loss_compare(label, 1e-5), atol=1e-5, rtol=1e-5))
    return probes


# ---------------------------------------------------------------- conjugate_gradient


def _spd(rng, n, kappa):
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return Q @ np.diag(np.geomspace(1.0, kappa, n)) @ Q.T


def probes_conjugate_gradient() -> list[Probe]:
    rng = np.random.default_rng(611)
    cases = [("diag(1, 2), b=(1, 1), 1 iteration", np.diag([1.0, 2.0]), np.array([1.0, 1.0]), 1, 1e-10),
             ("diag(1, 2), b=(1, 1), 10 iterations (the residual is 0 after 2)", np.diag([1.0, 2.0]),
              np.array([1.0, 1.0]), 10, 1e-10),
             ("n=1", np.array([[4.0]]), np.array([2.0]), 3, 1e-10),
             ("b = 0 (nothing to solve: no call of Avp)", _spd(rng, 5, 10.0), np.zeros(5), 10, 1e-10),
             ("the identity (one iteration solves it)", np.eye(6), rng.normal(size=6), 5, 1e-10),
             ("n=8, tol=1e-2 (stops early)", _spd(rng, 8, 50.0), rng.normal(size=8), 30, 1e-2),
             ("n=8, tol=0 (exactly iters calls)", _spd(rng, 8, 50.0), rng.normal(size=8), 4, 0.0),
             ("diag(1, 2), b=(1, 1), the defaults (iters=10, tol=1e-10: stops after 2)", np.diag([1.0, 2.0]),
              np.array([1.0, 1.0]), None, None),
             ("n=24, condition 1000, the defaults (iters=10 binds: r.r is still above 1e-10 after 10)",
              _spd(np.random.default_rng(6110), 24, 1000.0), np.random.default_rng(6111).normal(size=24), None, None)]
    for i in range(14):
        n = int(rng.integers(2, 26))
        kappa = float(10 ** rng.uniform(0, 3))
        iters = int(rng.choice([1, 2, 3, 5, 10, n, 30]))
        cases.append((f"random SPD #{i} (n={n}, condition {kappa:.0f}), {iters} iterations", _spd(rng, n, kappa),
                      rng.normal(size=n), iters, 1e-10))
    probes = []
    for label, A, b, iters, tol in cases:
        label = f"conjugate_gradient(...) on {label}"

        def run(s, A=A, b=b, iters=iters, tol=tol):
            calls = []
            At = torch.as_tensor(A)

            def Avp(v):
                calls.append(1)
                return At @ torch.as_tensor(np.asarray(v, dtype=np.float64))
            kw = {} if iters is None else {"iters": iters, "tol": tol}
            r = s.call("conjugate_gradient", wire.Callback(Avp), torch.as_tensor(b), **kw)
            x = r.value
            x = x.detach().numpy() if isinstance(x, torch.Tensor) else (f"a {type(x).__name__}, not a tensor")
            return (x, len(calls))

        def compare(got, expected, label=label, A=A, b=b, iters=iters):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            if isinstance(got[0], str):
                return f"{label}: returned {got[0]}"
            problem = diff(got[0], expected[0], 1e-6, 1e-6, f"x from {label}")
            if problem:
                return problem
            if got[1] != expected[1]:
                return (f"{label}: called Avp {got[1]} times, expected {expected[1]} (one call per iteration; "
                        "stop before an iteration when r.r < tol)")
            return None
        probes.append(Probe(label, run, compare, key=_nan_key, atol=1e-6, rtol=1e-6))
    return probes


# ---------------------------------------------------------------- hessian_vector_product


def probes_hessian_vector_product() -> list[Probe]:
    rng = np.random.default_rng(612)
    cases = []
    for i in range(10):
        D = int(rng.integers(1, 5))
        sizes = (D,) + tuple(int(h) for h in rng.integers(2, 7, size=int(rng.integers(1, 3)))) + (int(rng.integers(1, 3)),)
        act = "tanh" if i % 2 == 0 else "relu"
        n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
        damping = (None if i == 0 else 0.0) if i < 3 else float(rng.choice([0.01, 0.1, 0.5]))
        B = int(rng.integers(1, 9))
        cases.append((f"net {sizes} ({act}), batch of {B}, " + ("the default damping (0)" if damping is None else f"damping {damping:g}"), sizes, act, i,
                      rng.normal(size=(B, D)).astype(np.float32), rng.normal(size=(B, sizes[-1])).astype(np.float32),
                      rng.normal(size=n_params).astype(np.float32), damping))
    probes = []
    for label, sizes, act, seed, x, y, v, damping in cases:
        label = f"hessian_vector_product(...) for {label}"

        def run(s, sizes=sizes, act=act, seed=seed, x=x, y=y, v=v, damping=damping):
            extra = () if damping is None else (damping,)
            # twice on one loss, as conjugate gradient calls it (once per iteration): the loss's graph must survive
            r = s.call("hessian_vector_product", wire.Loss(1, torch.as_tensor(x), torch.as_tensor(y)),
                       wire.Net(sizes, act, seed=seed), torch.as_tensor(v), *extra, repeat=2)
            out = r.value
            if not isinstance(out, torch.Tensor):
                return (f"a {type(out).__name__}, not a tensor", None)
            grads = r.args_after[1]["grads"]
            left = sorted(k for k, g in grads.items() if g is not None and np.any(g != 0))
            return (out.detach().numpy().astype(np.float64), tuple(left))

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                hint = (" Conjugate gradient calls it once per iteration on the same loss: the loss's graph must "
                        "survive each call (retain_graph=True in the second torch.autograd.grad)."
                        if "second time" in str(got) else "")
                return f"{label}, called twice on one loss: raised {got}{hint}"
            if isinstance(got[0], str):
                return f"{label}: returned {got[0]}"
            problem = diff(got[0], expected[0], 1e-5, 1e-4, f"(H + damping I) v from {label}")
            if problem:
                return problem
            if got[1] and not expected[1]:
                return (f"{label}: left .grad on the parameters {', '.join(got[1])} (use torch.autograd.grad, "
                        "not .backward())")
            return None
        probes.append(Probe(label, run, compare, atol=1e-5, rtol=1e-4))
    return probes


# ---------------------------------------------------------------- backtracking_line_search


def _script(improve, kl):
    """evaluate(f) of a scripted search: improvement and KL as functions of the fraction."""
    def evaluate(f):
        f = float(f)
        return float(improve(f)), float(kl(f))
    return evaluate


def probes_backtracking_line_search() -> list[Probe]:
    rng = np.random.default_rng(613)
    cases = [
        ("the notebook's example (1.6 f - 2 f^2, KL 0.04 f^2)", lambda f: 1.6 * f - 2 * f * f, lambda f: 0.04 * f * f,
         0.01, {}),
        ("the full step is accepted", lambda f: f, lambda f: 0.005 * f * f, 0.01, {}),
        ("the KL exactly at max_kl (accepted)", lambda f: f, lambda f: 0.02 if f == 1.0 else 0.0, 0.02, {}),
        ("improvement exactly 0 at f=1 (rejected), positive at 0.5", lambda f: 0.0 if f == 1.0 else f,
         lambda f: 0.0, 0.01, {}),
        ("nothing improves (4 tries: 0.0)", lambda f: -1.0, lambda f: 0.0, 0.01, {"max_backtracks": 4}),
        ("always too far (0.0)", lambda f: 1.0, lambda f: 1.0, 0.01, {"max_backtracks": 5}),
        ("improves only far out, KL only small near: none", lambda f: f - 0.3, lambda f: f, 0.2, {"max_backtracks": 6}),
        ("shrink 0.8", lambda f: 0.5 - f * f, lambda f: 0.05 * f, 0.01, {"shrink": 0.8}),
        ("max_backtracks=1", lambda f: 1.0, lambda f: 0.5, 0.01, {"max_backtracks": 1}),
        ("nothing accepted with the defaults (10 tries, shrink 0.5)", lambda f: -1.0, lambda f: 0.0, 0.01, {}),
        ("the improvement is fine but the KL is too large until f = 1/8", lambda f: f, lambda f: 0.1 * f, 0.0125, {}),
        ("the KL is fine but the surrogate only improves for f <= 1/16", lambda f: 0.07 - f, lambda f: 0.0, 0.01, {}),
    ]
    for i in range(10):
        a, c, k = float(rng.uniform(0.2, 2.0)), float(rng.uniform(0.5, 4.0)), float(rng.uniform(0.001, 0.2))
        max_kl = float(rng.choice([0.005, 0.01, 0.02]))
        kw = {"max_backtracks": int(rng.integers(2, 12))}
        if i % 3 == 0:
            kw["shrink"] = float(rng.uniform(0.3, 0.9))
        cases.append((f"random search #{i}", lambda f, a=a, c=c: a * f - c * f * f, lambda f, k=k: k * f * f, max_kl, kw))
    probes = []
    for label, improve, kl, max_kl, kw in cases:
        label = (f"backtracking_line_search(...) on {label}, max_kl={max_kl:g}"
                 + "".join(f", {k}={v:g}" for k, v in kw.items()))

        def run(s, improve=improve, kl=kl, max_kl=max_kl, kw=kw):
            tried = []
            evaluate = _script(improve, kl)

            def spy(f):
                tried.append(float(f))
                return evaluate(f)
            v = s.call("backtracking_line_search", wire.Callback(spy), max_kl, **kw).value
            ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            return (float(v) if ok else f"not a number: {v!r:.60}", np.array(tried))

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            if isinstance(got[0], str):
                return f"{label}: expected a float, got {got[0]}"
            if len(got[1]) != len(expected[1]) or not np.allclose(got[1], expected[1], rtol=1e-12, atol=0):
                return (f"{label}: tried the fractions {np.round(got[1], 6).tolist()}, expected "
                        f"{np.round(expected[1], 6).tolist()}")
            return diff(got[0], expected[0], 1e-12, 1e-12, f"the fraction accepted by {label}")
        probes.append(Probe(label, run, compare, atol=1e-12, rtol=1e-12))
    return probes


# ---------------------------------------------------------------- clipped_surrogate


def probes_clipped_surrogate() -> list[Probe]:
    rng, cases = _loss_batches(601, 16)
    cases = [(label, new, old, adv, float(rng.uniform(0.05, 0.5))) for label, new, old, adv in cases]
    cases += [
        ("the notebook's table", np.log([1.5, 0.5, 1.0, 1.5]), np.zeros(4), np.array([1.0, 1.0, -2.0, -1.0]), 0.2),
        ("a batch of one, r=1.5, A=2", np.array([np.log(1.5) - 0.7]), np.array([-0.7]), np.array([2.0]), 0.2),
        ("a batch of one, r=0.5, A=-3", np.array([np.log(0.5) - 1.2]), np.array([-1.2]), np.array([-3.0]), 0.1),
        ("all advantages 0", np.log([0.5, 1.0, 2.0]), np.zeros(3), np.zeros(3), 0.2),
        ("extreme ratios e^6 and e^-6", np.array([6.0, -6.0, 6.0, -6.0]) - 2.0, np.full(4, -2.0),
         np.array([1.5, 1.5, -0.5, -0.5]), 0.2),
        ("ratios exactly 1", np.array([-0.3, -1.1, -2.5]), np.array([-0.3, -1.1, -2.5]), np.array([1.0, -2.0, 0.5]), 0.3),
        ("large advantages, clip 0.1", np.log([1.3, 0.7, 1.05, 0.95]), np.zeros(4), np.array([5.0, -5.0, 3.0, -3.0]), 0.1),
    ]
    probes = []
    for label, new, old, adv, clip in cases:
        label = f"clipped_surrogate(...) on {label}, clip={clip:.3f}"

        def run(s, new=new, old=old, adv=adv, clip=clip):
            args = (_t(new, grad=True), _t(old, grad=True), _t(adv, grad=True), clip)
            r = s.call("clipped_surrogate", *args, backward=True)
            after = r.args_after
            return (_scalar(r.value), _grad(after[0]), _reached(after[1]), _reached(after[2]))

        probes.append(Probe(label, run, _loss_compare(label, 1e-5), atol=1e-5, rtol=1e-5))
    return probes


# ---------------------------------------------------------------- approx_kl


def probes_approx_kl() -> list[Probe]:
    rng = np.random.default_rng(602)
    cases = []
    for i in range(12):
        B = int(rng.integers(2, 65))
        old = -np.abs(rng.normal(1.0, 0.6, size=B))
        cases.append((f"random batch #{i} (B={B})", old + rng.uniform(-3, 3, size=B), old))
    cases += [("r = [2, 1]", np.log([2.0, 1.0]), np.zeros(2)),
              ("ratios exactly 1", np.array([-0.2, -1.7]), np.array([-0.2, -1.7])),
              ("one sample, r = 3", np.array([np.log(3.0) - 1.0]), np.array([-1.0])),
              ("one sample, r = 0.2", np.array([np.log(0.2) - 0.5]), np.array([-0.5]))]
    probes = []
    for label, new, old in cases:
        label = f"approx_kl(...) on {label}"

        def run(s, new=new, old=old):
            r = s.call("approx_kl", _t(new, grad=True), _t(old), backward=True)
            return (_scalar(r.value), _grad(r.args_after[0]))

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            kind, value, rg = got[0]
            if kind != "scalar":
                return f"{label}: expected a scalar tensor (0-d), got a {kind}"
            problem = diff(value, expected[0][1], 1e-6, 1e-5, f"the value of {label}")
            if problem:
                return problem
            if not rg:
                return f"{label}: the result carries no gradient (PPO-penalty differentiates it)"
            return diff(got[1], expected[1], 1e-6, 1e-5, f"the gradient of {label} with respect to logp_new")
        probes.append(Probe(label, run, compare, atol=1e-6, rtol=1e-5))
    return probes


# ---------------------------------------------------------------- kl_penalty_loss


def probes_kl_penalty_loss() -> list[Probe]:
    rng, cases = _loss_batches(603, 12)
    cases = [(label, new, old, adv, float(rng.choice([0.0, 0.1, 1.0, 3.0, 10.0]) if i else 0.0))
             for i, (label, new, old, adv) in enumerate(cases)]
    cases += [("the notebook's example", np.log([2.0, 1.0]), np.zeros(2), np.array([1.0, -1.0]), 0.5),
              ("a batch of one", np.array([np.log(1.7) - 0.4]), np.array([-0.4]), np.array([-1.5]), 2.0),
              ("ratios exactly 1", np.array([-0.3, -1.0]), np.array([-0.3, -1.0]), np.array([2.0, -1.0]), 1.0)]
    probes = []
    for label, new, old, adv, beta in cases:
        label = f"kl_penalty_loss(...) on {label}, beta={beta:g}"

        def run(s, new=new, old=old, adv=adv, beta=beta):
            args = (_t(new, grad=True), _t(old, grad=True), _t(adv, grad=True), beta)
            r = s.call("kl_penalty_loss", *args, backward=True)
            after = r.args_after
            return (_scalar(r.value), _grad(after[0]), _reached(after[1]), _reached(after[2]))
        probes.append(Probe(label, run, _loss_compare(label, 1e-5), atol=1e-5, rtol=1e-5))
    return probes


# ---------------------------------------------------------------- adaptive_beta


def probes_adaptive_beta() -> list[Probe]:
    rng = np.random.default_rng(604)
    cases = [(1.0, 0.001, 0.01), (1.0, 0.1, 0.01), (3.0, 0.012, 0.01),
             (2.0, 0.01 / 1.5, 0.01), (2.0, 0.01 * 1.5, 0.01), (0.5, 0.02 / 1.5, 0.02), (0.5, 0.02 * 1.5, 0.02),
             (1.0, 0.0, 0.01), (4.0, 0.01 / 1.2, 0.01), (4.0, 0.01 * 1.2, 0.01), (1.0, 0.01 / 1.7, 0.01),
             (1.0, 0.01 * 1.7, 0.01)]
    for _ in range(30):
        target = float(10 ** rng.uniform(-3, -1))
        cases.append((float(10 ** rng.uniform(-2, 1)), float(target * 10 ** rng.uniform(-1, 1)), target))
    probes = []
    for beta, kl, target in cases:
        label = f"adaptive_beta(beta={beta:.4g}, kl={kl:.4g}, kl_target={target:.4g})"
        if kl == target / 1.5:
            label += " (kl exactly kl_target / 1.5: beta stays)"
        if kl == target * 1.5:
            label += " (kl exactly kl_target * 1.5: beta stays)"

        def run(s, beta=beta, kl=kl, target=target):
            v = s.call("adaptive_beta", beta, kl, target).value
            ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            return float(v) if ok else f"not a number: {v!r:.60}"

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            if isinstance(got, str):
                return f"{label}: expected a float, got {got}"
            return diff(got, expected, 1e-12, 1e-12, label)
        probes.append(Probe(label, run, compare, atol=1e-12, rtol=1e-12))
    return probes


# ---------------------------------------------------------------- ppo_update

_LISTS = ("approx_kl", "policy_loss", "value_loss", "entropy", "clip_fraction")


def _mlp_state(sizes, seed):
    torch.manual_seed(seed)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.Tanh())
    net = nn.Sequential(*layers)
    return net, {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}


def _update_case(seed, n, D, A, hidden, perturb_old=0.0):
    """A frozen batch collected by the policy the call receives (so the first ratio is exactly 1),
    unless ``perturb_old``: then logp_old is that of a slightly different policy."""
    g = torch.Generator().manual_seed(seed)
    policy, p_state = _mlp_state((D, hidden, A), seed)
    _, v_state = _mlp_state((D, hidden, 1), seed + 1000)
    obs = torch.randn(n, D, generator=g)
    with torch.no_grad():
        logits = policy(obs)
        actions = torch.multinomial(torch.softmax(logits, -1), 1, generator=g).squeeze(-1)
        logp = torch.log_softmax(logits, -1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        if perturb_old:
            logp = logp + perturb_old * torch.randn(n, generator=g)
    fields = {"obs": obs, "actions": actions, "logp_old": logp,
              "advantages": torch.randn(n, generator=g) * 2.0 + 0.5,
              "returns": torch.randn(n, generator=g) * 3.0 + 1.0}
    return p_state, v_state, fields


def _stats_trace(value):
    if not isinstance(value, dict):
        return f"a {type(value).__name__}, not a dict"
    missing = [k for k in ("minibatches",) + _LISTS if k not in value]
    if missing:
        return f"a dict without the key{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}"
    mb = value["minibatches"]
    if not isinstance(mb, (int, np.integer)) or isinstance(mb, (bool, np.bool_)):
        return f"stats['minibatches'] is a {type(mb).__name__}, not an int"
    out = {"minibatches": int(mb)}
    for k in _LISTS:
        v = value[k]
        try:
            out[k] = np.asarray([float(x) for x in v], dtype=np.float64)
        except Exception:
            return f"stats[{k!r}] is not a list of numbers"
    return out


def probes_ppo_update() -> list[Probe]:
    # (label, seed, n, D, A, hidden, optimizer kind, lr, kwargs, perturb_old)
    cases = [
        ("n=10, minibatches of 4 (4+4+2), 2 epochs, Adam", 1, 10, 4, 2, 16, "Adam", 1e-2,
         dict(epochs=2, minibatch_size=4, entropy_coef=0.01), 0.0),
        ("n=32, one minibatch of 32, 4 epochs, Adam", 2, 32, 4, 2, 16, "Adam", 3e-3,
         dict(epochs=4, minibatch_size=32), 0.0),
        ("n=24, minibatches of 8, 3 epochs, SGD, value_coef=1, entropy_coef=0.5", 3, 24, 3, 3, 8, "SGD", 0.1,
         dict(epochs=3, minibatch_size=8, value_coef=1.0, entropy_coef=0.5, clip=0.1), 0.0),
        ("n=7, minibatches of 1 sample, 1 epoch, SGD", 4, 7, 2, 2, 8, "SGD", 0.05,
         dict(epochs=1, minibatch_size=1), 0.0),
        ("n=40, minibatches of 16, 2 epochs, target_kl=1e-6 (the first KL is 0 up to rounding: one step, then stop)",
         5, 40, 4, 2, 16, "Adam", 1e-2, dict(epochs=2, minibatch_size=16, target_kl=1e-6), 0.0),
        ("n=64, minibatches of 16, 4 epochs, Adam lr=0.03, target_kl=0.01 (stops mid-way)", 6, 64, 4, 2, 16, "Adam",
         3e-2, dict(epochs=4, minibatch_size=16, target_kl=0.01), 0.0),
        ("n=96, minibatches of 32, 4 epochs, Adam lr=0.02, target_kl=0.02, entropy_coef=0.1", 7, 96, 5, 4, 16, "Adam",
         2e-2, dict(epochs=4, minibatch_size=32, target_kl=0.02, entropy_coef=0.1), 0.0),
        ("n=20, minibatches of 6, 2 epochs, SGD, max_grad_norm=0.05 (clipping active)", 8, 20, 4, 2, 16, "SGD", 0.5,
         dict(epochs=2, minibatch_size=6, max_grad_norm=0.05), 0.0),
        ("n=16, minibatches of 8, 2 epochs, logp_old of a slightly different policy (ratios differ from 1)", 9, 16,
         4, 3, 16, "Adam", 1e-2, dict(epochs=2, minibatch_size=8, clip=0.2), 0.3),
        ("n=8, the defaults (10 epochs, minibatch_size=64 > n: one minibatch per epoch), SGD", 10, 8, 3, 2, 8, "SGD",
         0.2, dict(), 0.0),
        ("n=100, the defaults (10 epochs, minibatches of 64 + 36), SGD", 12, 100, 3, 2, 8, "SGD", 0.2, dict(), 0.0),
        ("n=48, minibatches of 16, 3 epochs, Adam lr=0.05, target_kl=0.03, logp_old perturbed", 11, 48, 4, 2, 16,
         "Adam", 5e-2, dict(epochs=3, minibatch_size=16, target_kl=0.03), 0.2),
    ]
    probes = []
    for label, seed, n, D, A, hidden, kind, lr, kwargs, perturb in cases:
        label = f"ppo_update(...) with {label}"

        def run(s, seed=seed, n=n, D=D, A=A, hidden=hidden, kind=kind, lr=lr, kwargs=kwargs, perturb=perturb):
            p_state, v_state, fields = _update_case(seed, n, D, A, hidden, perturb)
            args = (wire.Net((D, hidden, A), "tanh", state=p_state), wire.Net((D, hidden, 1), "tanh", state=v_state),
                    wire.Optim(kind, 0, lr), wire.Optim(kind, 1, lr), wire.Record("Batch", fields), wire.Rng(seed))
            r = s.call("ppo_update", *args, seed=seed, **kwargs)
            p_after, v_after = r.args_after[0], r.args_after[1]
            return (_stats_trace(r.value), dict(p_after["state"]), dict(v_after["state"]))

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            stats, exp = got[0], expected[0]
            if isinstance(stats, str):
                return f"{label}: returned {stats}"
            if stats["minibatches"] != exp["minibatches"]:
                return (f"{label}: took {stats['minibatches']} gradient steps, expected {exp['minibatches']} "
                        f"(the approximate KL of the minibatches examined: expected "
                        f"{np.round(exp['approx_kl'], 5).tolist()[:12]}, got {np.round(stats['approx_kl'], 5).tolist()[:12]})")
            for k in _LISTS:
                problem = diff(stats[k], exp[k], 1e-4, 1e-4, f"stats[{k!r}] of {label}")
                if problem:
                    return problem
            for which, g, e in (("policy network", got[1], expected[1]), ("value network", got[2], expected[2])):
                for name in e:
                    problem = diff(g.get(name), e[name], 1e-4, 1e-4,
                                   f"the {which}'s parameter {name!r} after {label}")
                    if problem:
                        return problem
            return None
        probes.append(Probe(label, run, compare, key=_nan_key, atol=1e-4, rtol=1e-4))
    return probes


def _nan_key(trace):
    """Traces with nan (a minibatch of one normalised by its nan std) agree with each other."""
    if isinstance(trace, np.ndarray) and trace.dtype.kind == "f":
        return np.nan_to_num(trace, nan=-123456.0, posinf=1e30, neginf=-1e30)
    if isinstance(trace, tuple):
        return tuple(_nan_key(t) for t in trace)
    if isinstance(trace, dict):
        return {k: _nan_key(v) for k, v in trace.items()}
    return trace


EXERCISES = [
    Exercise("surrogate", probes_surrogate),
    Exercise("conjugate_gradient", probes_conjugate_gradient),
    Exercise("hessian_vector_product", probes_hessian_vector_product),
    Exercise("backtracking_line_search", probes_backtracking_line_search),
    Exercise("clipped_surrogate", probes_clipped_surrogate),
    Exercise("approx_kl", probes_approx_kl),
    Exercise("kl_penalty_loss", probes_kl_penalty_loss),
    Exercise("adaptive_beta", probes_adaptive_beta),
    Exercise("ppo_update", probes_ppo_update),
]

# ---------------------------------------------------------------- known mistakes (each written once)

MISTAKES = [
    Mistake("surrogate", "the ratio is inverted (pi_old / pi_new)",
            "torch.exp(logp_new - logp_old.detach())", "torch.exp(logp_old.detach() - logp_new)"),
    Mistake("surrogate", "log-probabilities where the ratio belongs (no exp: mean((logp_new - logp_old) * A))",
            "torch.exp(logp_new - logp_old.detach())", "(logp_new - logp_old.detach())"),
    Mistake("surrogate", "a sum over the batch instead of the mean",
            "advantages.detach()).mean()", "advantages.detach()).sum()"),
    Mistake("surrogate", "the sign: L is the objective to maximise, not a loss",
            "return (ratio * advantages.detach()).mean()", "return -(ratio * advantages.detach()).mean()"),
    Mistake("surrogate", "the old log-probabilities carry gradient (logp_old not detached)",
            "torch.exp(logp_new - logp_old.detach())", "torch.exp(logp_new - logp_old)"),
    Mistake("surrogate", "the advantages carry gradient (not detached)",
            "(ratio * advantages.detach())", "(ratio * advantages)"),
    Mistake("surrogate", "pi_new alone instead of the ratio pi_new / pi_old",
            "torch.exp(logp_new - logp_old.detach())", "torch.exp(logp_new)"),
    Mistake("conjugate_gradient", "alpha = r.r / (Ap.Ap) instead of r.r / (p.Ap)",
            "alpha = rr / torch.dot(p, Ap)", "alpha = rr / torch.dot(Ap, Ap)"),
    Mistake("conjugate_gradient", "the new direction is the residual alone (steepest descent, not conjugate directions)",
            "p = r + (rr_new / rr) * p", "p = r"),
    Mistake("conjugate_gradient", "beta inverted (r.r / r_new.r_new)",
            "p = r + (rr_new / rr) * p", "p = r + (rr / rr_new) * p"),
    Mistake("conjugate_gradient", "the residual is not updated",
            "        r = r - alpha * Ap\n", ""),
    Mistake("conjugate_gradient", "no tolerance test (divides 0 by 0 once the residual vanishes)",
            "        if rr < tol:\n            break\n", ""),
    Mistake("conjugate_gradient", "x starts at b instead of 0",
            "x = torch.zeros_like(b)", "x = b.clone()"),
    Mistake("hessian_vector_product", "the damping is missing",
            ".detach() + damping * v", ".detach()"),
    Mistake("hessian_vector_product", "damping multiplies H v instead of adding damping * v",
            ".detach() + damping * v", ".detach() * (damping if damping else 1.0)"),
    Mistake("hessian_vector_product", "returns the gradient, not the Hessian-vector product",
            "return torch.cat([h.reshape(-1) for h in hv]).detach() + damping * v",
            "return flat.detach() + damping * v"),
    Mistake("hessian_vector_product", "uses .backward(), which leaves .grad on the parameters",
            "hv = torch.autograd.grad(torch.dot(flat, v), params, retain_graph=True)",
            "torch.dot(flat, v).backward(retain_graph=True)\n    hv = [p.grad.clone() for p in params]"),
    Mistake("backtracking_line_search", "accepts on the KL alone (the surrogate must improve too)",
            "if improvement > 0 and kl <= max_kl:", "if kl <= max_kl:"),
    Mistake("backtracking_line_search", "accepts on the improvement alone (the KL must stay within max_kl)",
            "if improvement > 0 and kl <= max_kl:", "if improvement > 0:"),
    Mistake("backtracking_line_search", "the KL must be strictly below max_kl (it may equal it)",
            "kl <= max_kl", "kl < max_kl"),
    Mistake("backtracking_line_search", "an improvement of 0 is accepted (>= 0)",
            "improvement > 0", "improvement >= 0"),
    Mistake("backtracking_line_search", "returns the last fraction tried instead of 0.0 when nothing is accepted",
            "    return 0.0", "    return frac / shrink"),
    Mistake("backtracking_line_search", "the first try is already shrunk (starts at shrink, not 1)",
            "frac = 1.0", "frac = shrink"),
    Mistake("clipped_surrogate", "max instead of min (an optimistic bound: clipping then adds incentives)",
            "-torch.min(unclipped, clipped)", "-torch.max(unclipped, clipped)"),
    Mistake("clipped_surrogate", "the advantage is clipped instead of the ratio",
            "torch.clamp(ratio, 1.0 - clip, 1.0 + clip) * advantages",
            "ratio * torch.clamp(advantages, 1.0 - clip, 1.0 + clip)"),
    Mistake("clipped_surrogate", "no clipping at all (the plain importance-sampled objective)",
            "return -torch.min(unclipped, clipped).mean()", "return -unclipped.mean()"),
    Mistake("clipped_surrogate", "the sign: returns L^CLIP, not the loss -L^CLIP (we minimise)",
            "return -torch.min(unclipped, clipped).mean()", "return torch.min(unclipped, clipped).mean()"),
    Mistake("clipped_surrogate", "the old log-probabilities carry gradient (logp_old not detached)",
            "torch.exp(logp_new - logp_old.detach())", "torch.exp(logp_new - logp_old)"),
    Mistake("clipped_surrogate", "the advantages carry gradient (not detached)",
            "    advantages = advantages.detach()\n", ""),
    Mistake("clipped_surrogate", "the ratio is inverted (pi_old / pi_new)",
            "torch.exp(logp_new - logp_old.detach())", "torch.exp(logp_old.detach() - logp_new)"),
    Mistake("clipped_surrogate", "a sum over the batch instead of the mean",
            "clipped).mean()", "clipped).sum()"),
    Mistake("clipped_surrogate", "the ratio is clipped to [-clip, clip] instead of [1 - clip, 1 + clip]",
            "torch.clamp(ratio, 1.0 - clip, 1.0 + clip)", "torch.clamp(ratio, -clip, clip)"),
    Mistake("approx_kl", "the plain estimator mean(-log r) (unbiased but noisy, can be negative)",
            "return ((torch.exp(log_ratio) - 1.0) - log_ratio).mean()", "return (-log_ratio).mean()"),
    Mistake("approx_kl", "the sign: mean(log r - (r - 1)) is never positive",
            "return ((torch.exp(log_ratio) - 1.0) - log_ratio).mean()",
            "return (log_ratio - (torch.exp(log_ratio) - 1.0)).mean()"),
    Mistake("approx_kl", "the ratio inverted (r = pi_old / pi_new: the other direction of the KL)",
            "log_ratio = logp_new - logp_old", "log_ratio = logp_old - logp_new"),
    Mistake("approx_kl", "mean(0.5 * (log r)^2), another estimator",
            "return ((torch.exp(log_ratio) - 1.0) - log_ratio).mean()", "return (0.5 * log_ratio ** 2).mean()"),
    Mistake("approx_kl", "the result is detached (PPO-penalty cannot differentiate it)",
            "- log_ratio).mean()", "- log_ratio).mean().detach()"),
    Mistake("kl_penalty_loss", "the penalty is subtracted in the loss (added to the objective)",
            "+ beta * kl", "- beta * kl"),
    Mistake("kl_penalty_loss", "the sign of the surrogate: the loss is -mean(r A)",
            "return -(ratio", "return (ratio"),
    Mistake("kl_penalty_loss", "the KL as mean(-log r) instead of mean((r - 1) - log r)",
            "kl = ((ratio - 1.0) - log_ratio).mean()", "kl = (-log_ratio).mean()"),
    Mistake("kl_penalty_loss", "the old log-probabilities carry gradient (logp_old not detached)",
            "logp_new - logp_old.detach()", "logp_new - logp_old"),
    Mistake("kl_penalty_loss", "the advantages carry gradient (not detached)",
            "advantages.detach()", "advantages"),
    Mistake("adaptive_beta", "the two directions are swapped (beta grows when the update was timid)",
            "return beta / 2.0\n    if kl > kl_target * 1.5:\n        return beta * 2.0",
            "return beta * 2.0\n    if kl > kl_target * 1.5:\n        return beta / 2.0"),
    Mistake("adaptive_beta", "no band: beta changes as soon as kl differs from the target",
            "if kl < kl_target / 1.5:\n        return beta / 2.0\n    if kl > kl_target * 1.5:",
            "if kl < kl_target:\n        return beta / 2.0\n    if kl > kl_target:"),
    Mistake("adaptive_beta", "beta changes by a factor 1.5 instead of 2",
            "return beta / 2.0\n    if kl > kl_target * 1.5:\n        return beta * 2.0",
            "return beta / 1.5\n    if kl > kl_target * 1.5:\n        return beta * 1.5"),
    Mistake("adaptive_beta", "the band's edges are excluded (<= and >=: beta changes at exactly kl_target / 1.5 and * 1.5)",
            "if kl < kl_target / 1.5:\n        return beta / 2.0\n    if kl > kl_target * 1.5:",
            "if kl <= kl_target / 1.5:\n        return beta / 2.0\n    if kl >= kl_target * 1.5:"),
    Mistake("ppo_update", "advantages normalised over the whole batch instead of per minibatch",
            "adv = batch.advantages[idx]\n            if len(idx) > 1:\n                adv = (adv - adv.mean()) / (adv.std() + 1e-8)",
            "adv = ((batch.advantages - batch.advantages.mean()) / (batch.advantages.std() + 1e-8))[idx]"),
    Mistake("ppo_update", "advantages not normalised",
            "            if len(idx) > 1:\n                adv = (adv - adv.mean()) / (adv.std() + 1e-8)\n", ""),
    Mistake("ppo_update", "a minibatch of one sample is normalised too (the std of one sample is nan)",
            "            if len(idx) > 1:\n                adv = (adv - adv.mean())", "            if True:\n                adv = (adv - adv.mean())"),
    Mistake("ppo_update", "gradients are not zeroed: every step adds the gradients of all the previous minibatches",
            "            policy_opt.zero_grad()\n            value_opt.zero_grad()\n", ""),
    Mistake("ppo_update", "the value output (B, 1) broadcasts against the returns (B,) in the value loss",
            "values = value_net(batch.obs[idx]).squeeze(-1)", "values = value_net(batch.obs[idx])"),
    Mistake("ppo_update", "the entropy bonus has the wrong sign (+ entropy_coef * entropy)",
            "loss = policy_loss + value_coef * value_loss - entropy_coef * entropy",
            "loss = policy_loss + value_coef * value_loss + entropy_coef * entropy"),
    Mistake("ppo_update", "the old log-probabilities are recomputed from the current policy at each epoch (the ratio restarts at 1)",
            "        order = rng.permutation(n)\n",
            "        order = rng.permutation(n)\n        with torch.no_grad():\n"
            "            batch = batch._replace(logp_old=policy_distribution(policy_net, batch.obs).log_prob(batch.actions))\n"),
    Mistake("ppo_update", "one shuffle for all epochs (the permutation is drawn once)",
            "    for epoch in range(epochs):\n        order = rng.permutation(n)\n",
            "    order = rng.permutation(n)\n    for epoch in range(epochs):\n"),
    Mistake("ppo_update", "early stopping leaves only the current epoch (break): the next epoch trains on",
            "            if target_kl is not None and kl > target_kl:\n                return stats",
            "            if target_kl is not None and kl > target_kl:\n                break"),
    Mistake("ppo_update", "early stopping is checked only once per epoch (on its last minibatch)",
            "if target_kl is not None and kl > target_kl:",
            "if target_kl is not None and kl > target_kl and start + minibatch_size >= n:"),
    Mistake("ppo_update", "the gradient norm is not clipped",
            "            nn.utils.clip_grad_norm_(params, max_grad_norm)\n", ""),
    Mistake("ppo_update", "the last, shorter minibatch of each epoch is dropped",
            "for start in range(0, n, minibatch_size):", "for start in range(0, n - minibatch_size + 1, minibatch_size):"),
    Mistake("ppo_update", "max instead of min in the clipped objective",
            "-torch.min(ratio * adv", "-torch.max(ratio * adv"),
]

# ---------------------------------------------------------------- equivalent mutants
# (exercise, original line, mutated line, why): mutants no check can kill because they do not change
# what the exercise promises.

EQUIVALENT_MUTANTS = [
    ("ppo_update", "if len(idx) > 1:", "if len(idx) != 1:", "a minibatch is never empty: len(idx) >= 1"),
    ("conjugate_gradient", "break", "continue",
     "once r.r < tol nothing in the loop changes x, r or rr: the remaining iterations do nothing and call no Avp"),
    ("ppo_update", "values = value_net(batch.obs[idx]).squeeze(-1)", "values = value_net(batch.obs[idx]).squeeze(+1)",
     "the value net's output is (B, 1): dim 1 is dim -1"),
    ("ppo_update", "values = value_net(batch.obs[idx]).squeeze(-1)", "values = value_net(batch.obs[idx]).squeeze(1)",
     "the value net's output is (B, 1): dim 1 is dim -1"),
    ("conjugate_gradient", "if rr < tol:", "if rr <= tol:",
     "differs only when r.r equals tol exactly (a float equality of a sum of squares: probability 0)"),
    ("ppo_update", "if target_kl is not None and kl > target_kl:", "if target_kl is not None and kl >= target_kl:",
     "differs only when the measured KL equals target_kl exactly (probability 0)"),
    ("ppo_update", 'stats["clip_fraction"].append(((ratio - 1.0).abs() > clip).float().mean().item())',
     'stats["clip_fraction"].append(((ratio - 1.0).abs() >= clip).float().mean().item())',
     "differs only when a ratio is exactly 1 +- clip (probability 0); the statistic is not returned to the loss"),
    ("ppo_update", "adv = (adv - adv.mean()) / (adv.std() + 1e-8)", "adv = (adv - adv.mean()) / (adv.std() - 1e-8)",
     "the advantages' std is far above 1e-8 in every probe and in training: +-1e-8 changes the normalised "
     "advantages by about 2e-8 of their size, below any tolerance (not equivalent for a batch of equal advantages)"),
]
