"""Hidden checks of chapter 05, actor-critic methods (instructors only), run by the grader outside the
student's kernel.

The reference of every exercise is the instructor's solution cell, extracted into
``solution_05_actor_critic.py`` (``python -m autograder.verdict.extract 05_actor_critic``) from 5a and
5b. This file holds what is *not* the solution: seeded rollouts (terminated, truncated and both at
once, at the last step and in the middle, one env, gamma 0 and 1), the probes of each exercise and
the registry of known mistakes, each written once as an edit of the solution.

Gradients: ``actor_critic_loss`` returns the loss first, which the wire back-propagates, so its
probes read the gradients of the values and of the returns (which must get none). Its logits are sent
*without* gradient: the check supplies the reference ``categorical_entropy`` (one mistake costs one
exercise), and a local student (the reference itself, known mistakes, mutants) hands a reference
piece's result back through ``copy.deepcopy``, which torch refuses for a tensor that is not a graph
leaf (see the report of this conversion); the kernel's wire would have sent it as data.
The gradient with respect to the logits is read by separate probes with ``entropy_coef=0`` and no
reference piece (the notebook's own ``categorical_entropy`` then changes neither the loss nor its
gradient; when the call raises, those probes pass and the others judge).
``categorical_entropy`` returns one value per row; its gradient probes call it on a single row
(logits ``(A,)``, a 0-d result the wire back-propagates); an answer that cannot take a single row
(it raises there) is not marked down by those probes, the contract promising batches only.

worker_update: each call builds, in the student's kernel, a local network, a network in shared memory
(``share_memory()``) with the same architecture, each with a parameter ``unused`` that no loss reaches,
an MSE loss computed with the local network and an optimizer over the shared one. The answers say
the parameters of both networks after the update, their gradients, which parameters are still in
shared memory and where they live (local and shared must not alias). Sequences of updates chain
calls: the next call starts from the states the student's previous call left (a plain SGD optimizer
has no state, so the chain is exact; with the local network out of sync, the next gradient differs).
Adam keeps moments that do not survive between calls, so Adam is checked on single updates (one
fresh step: its size does not depend on the clipping, hence clipping is checked with SGD). Each call
of a sequence also gets the gradients the previous call left on both networks
(``wire.Net(grads=...)``), as a worker's persistent networks would hold them: a worker that does not
clear its local gradients adds the previous update's, and one that hands its gradient over only while
the shared ``.grad`` is None (the "alias once" idiom of torch < 2.0) steps with a stale one.
"""
from __future__ import annotations

import numpy as np
import torch

from autograder.verdict import wire
from autograder.verdict.core import Exercise, Mistake, Probe, StudentRaised, diff, modified_args
from autograder.verdict.wire import Proxy, Raised

CHAPTER = "05_actor_critic"
PREAMBLE = "import numpy as np\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn"

# ---------------------------------------------------------------- reading answers


def _out(x) -> dict:
    """A result as comparable data: kind, shape, values (non-finite entries replaced by 0 and listed in
    ``nonfinite``: 1 nan, 2 +inf, 3 -inf) and whether a tensor carries gradient."""
    if isinstance(x, torch.Tensor):
        kind, rg, a = "tensor", bool(x.requires_grad), x.detach().numpy()
    elif isinstance(x, np.ndarray):
        kind, rg, a = "ndarray", False, x
    elif isinstance(x, (bool, np.bool_)):
        return {"kind": "bool"}
    elif isinstance(x, (int, float, np.integer, np.floating)):
        kind, rg, a = "number", False, np.asarray(x)
    else:
        return {"kind": type(x).__name__}
    if a.dtype.kind not in "biuf":
        return {"kind": f"{kind} of {a.dtype}"}
    values = a.astype(np.float64)
    nonfinite = np.where(np.isnan(values), 1, np.where(values == np.inf, 2, np.where(values == -np.inf, 3, 0)))
    return {"kind": kind, "shape": tuple(int(d) for d in a.shape), "values": np.where(nonfinite > 0, 0.0, values),
            "nonfinite": nonfinite, "rg": rg}


def _grad(t):
    g = getattr(t, "grad", None)
    if g is None:
        return None
    return np.nan_to_num(g.detach().numpy().astype(np.float64), nan=1e300, posinf=1e301, neginf=-1e301)


def _compare_out(label: str, got: dict, expected: dict, atol: float, rtol: float) -> str | None:
    if got.get("kind") != "tensor":
        return f"{label}: expected a torch tensor, got a {got.get('kind')}"
    if got["shape"] != expected["shape"]:
        hint = ""
        if got["shape"] in (expected["shape"] + (1,),) or (len(got["shape"]) == 2 and got["shape"][0] == got["shape"][1]):
            hint = " A trailing dimension of 1 or an (N, N) result is the classic broadcasting bug."
        return f"{label}: expected shape {expected['shape']}, got {got['shape']}.{hint}"
    bad = np.flatnonzero(got["nonfinite"].ravel() != expected["nonfinite"].ravel())
    if bad.size:
        i = int(bad[0])
        names = {0: "a finite number", 1: "nan", 2: "inf", 3: "-inf"}
        return (f"{label}: entry {i} is {names[int(got['nonfinite'].ravel()[i])]}, expected "
                f"{names[int(expected['nonfinite'].ravel()[i])]}")
    problem = diff(got["values"], expected["values"], atol, rtol, label)
    if problem:
        return problem
    if expected["rg"] and not got["rg"]:
        return (f"{label}: the result carries no gradient (detached, computed under no_grad or through numpy): "
                "it could not train the network")
    if got["rg"] and not expected["rg"]:
        return (f"{label}: the result carries gradient. It is a target: detach what comes from a network "
                "(next_values.detach(), or compute under torch.no_grad())")
    return None


def _changed_problem(label, got, expected) -> str | None:
    if got and not expected:
        return f"{label}: changed its argument{'s' if len(got) > 1 else ''} {', '.join(got)} in place (the caller's data must not change)"
    return None


def _t(x, dtype=torch.float32, grad=False) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x)).to(dtype)
    return t.requires_grad_(True) if grad else t


def random_rollout(rng: np.random.Generator, T: int, N: int, p_term: float = 0.15, p_trunc: float = 0.1):
    rewards = rng.normal(size=(T, N)).round(2)
    u = rng.random((T, N))
    terminated = u < p_term
    truncated = (u >= p_term) & (u < p_term + p_trunc)
    next_values = rng.normal(scale=3.0, size=(T, N)).round(2)
    return rewards, terminated, truncated, next_values


# ---------------------------------------------------------------- n_step_returns


def probes_n_step_returns() -> list[Probe]:
    rng = np.random.default_rng(505)
    f, t = False, True
    cases = [
        ("the three hand-worked environments", np.ones((3, 3)), np.array([[f, f, f], [f, t, f], [f, f, f]]),
         np.array([[f, f, f], [f, f, t], [f, f, f]]), np.array([[5.0, 5, 5], [6, 6, 6], [7, 7, 7]]), 0.9, f),
        ("T=1, terminal/truncated/neither/both", np.array([[1.0, 2.0, 3.0, 4.0]]), np.array([[t, f, f, t]]),
         np.array([[f, t, f, t]]), np.array([[10.0, 20.0, 30.0, 40.0]]), 0.9, f),
        ("terminated and truncated both set in the middle", np.array([[1.0], [2.0], [3.0]]), np.array([[f], [t], [f]]),
         np.array([[f], [t], [f]]), np.array([[4.0], [-5.0], [6.0]]), 0.5, f),
    ]
    rr, te, tr, nv = random_rollout(rng, 8, 1)
    cases.append(("one env (N=1)", rr, te, tr, nv, 0.99, t))
    rr, _, _, nv = random_rollout(rng, 6, 3)
    cases.append(("every step terminal", rr, np.ones((6, 3), bool), np.zeros((6, 3), bool), nv, 0.95, f))
    cases.append(("every step truncated", rr, np.zeros((6, 3), bool), np.ones((6, 3), bool), nv, 0.95, t))
    cases.append(("no episode end, gamma=1", rr, np.zeros((6, 3), bool), np.zeros((6, 3), bool), nv, 1.0, f))
    for i in range(14):
        T, N = int(rng.integers(3, 13)), int(rng.integers(1, 7))
        rr, te, tr, nv = random_rollout(rng, T, N)
        cases.append((f"random rollout #{i}", rr, te, tr, nv, float(rng.choice([0.0, 0.5, 0.9, 0.99, 1.0])), i % 3 == 0))
    probes = []
    for label, rr, te, tr, nv, gamma, grad in cases:
        label = (f"n_step_returns ({label}, T={rr.shape[0]}, N={rr.shape[1]}, gamma={gamma}"
                 + (", next_values that require grad)" if grad else ")"))

        def run(s, rr=rr, te=te, tr=tr, nv=nv, gamma=gamma, grad=grad):
            args = (_t(rr), torch.as_tensor(te), torch.as_tensor(tr), _t(nv, grad=grad), gamma)
            r = s.call("n_step_returns", *args)
            return _out(r.value), tuple(modified_args(r, args, ["rewards", "terminated", "truncated", "next_values"]))

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            return _compare_out(label, got[0], expected[0], 1e-5, 1e-5) or _changed_problem(label, got[1], expected[1])
        probes.append(Probe(label, run, compare, atol=1e-5, rtol=1e-5))
    return probes


# ---------------------------------------------------------------- categorical_entropy


def _single_row_probe(label, fn, make_args, grad_of, atol=1e-6) -> Probe:
    """``fn`` on one row (a 0-d result, back-propagated): value, gradient flag and the gradients of the
    arguments ``grad_of``. An answer that cannot take a single row (it raises) passes."""
    def run(s):
        r = s.call(fn, *make_args(), backward=True)
        return _out(r.value), tuple(_grad(r.args_after[i]) for i in grad_of)

    def compare(got, expected):
        if isinstance(got, Raised):
            return None
        problem = _compare_out(label, got[0], expected[0], atol, atol)
        if problem:
            return problem
        for g, e in zip(got[1], expected[1]):
            if g is None:
                return f"{label}: no gradient reached the logits"
            problem = diff(g, e, atol, atol, label)
            if problem:
                return problem
        return None
    return Probe(label, run, compare, atol=atol, rtol=atol)


def probes_categorical_entropy() -> list[Probe]:
    rng = np.random.default_rng(506)
    cases = [("uniform over 4 actions", np.zeros((3, 4))),
             ("two actions", np.array([[0.0, 0.0], [1.0, -1.0]])),
             ("a batch of one", np.array([[1.0, 2.0, 3.0]])),
             ("saturated logits (a softmax rounds to exactly 0)", np.array([[1000.0, 0.0, -1000.0], [50.0, 50.0, -50.0]])),
             ("the visible rows", np.array([[0.0, 0.0, -1e9, -1e9], [0.0, 0.0, 0.0, 0.0], [500.0, 0.0, 0.0, 0.0]])),
             ("B = A = 3", np.array([[0.5, -1.0, 2.0], [0.0, 0.3, -0.3], [1.5, 1.5, 0.0]]))]
    for i in range(10):
        B, A = int(rng.integers(2, 9)), int(rng.integers(2, 7))
        if B == A:
            B += 1
        cases.append((f"random #{i}", rng.normal(scale=float(rng.choice([0.3, 1.0, 4.0])), size=(B, A)).round(4)))
    probes = []
    for label, logits in cases:
        label = f"categorical_entropy ({label}, logits of shape {logits.shape})"

        def run(s, logits=logits):
            args = (_t(logits, torch.float64, grad=True),)
            r = s.call("categorical_entropy", *args)
            return _out(r.value), tuple(modified_args(r, args, ["logits"]))

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            problem = _compare_out(label, got[0], expected[0], 1e-6, 1e-6)
            if problem and got[0].get("nonfinite") is not None and got[0]["nonfinite"].any():
                problem += (" Large logits make softmax round to exactly 0 and log(0) = -inf; use F.log_softmax "
                            "(0 * a finite number = 0).")
            return problem or _changed_problem(label, got[1], expected[1])
        probes.append(Probe(label, run, compare, atol=1e-6, rtol=1e-6))
    for row in (np.array([0.3, -0.2, 1.0]), np.array([2.0, 0.0]), np.array([1.0, -3.0, 0.5, 0.0, 2.0])):
        probes.append(_single_row_probe(
            f"the gradient of categorical_entropy(logits={row.tolist()}) with respect to the logits (one row (A,))",
            "categorical_entropy", lambda row=row: (_t(row, torch.float64, grad=True),), [0]))
    return probes


# ---------------------------------------------------------------- actor_critic_loss


def probes_actor_critic_loss() -> list[Probe]:
    rng = np.random.default_rng(507)

    def case(B, A, scale=1.0):
        return (rng.normal(scale=scale, size=(B, A)).round(4), rng.integers(0, A, size=B),
                rng.normal(size=B).round(4), rng.normal(scale=2.0, size=B).round(4))
    cases = [("the visible example", (np.zeros((2, 2)), np.array([0, 1]), np.array([1.0, 2.0]), np.array([3.0, 0.0])),
              0.5, 0.1),
             ("a batch of one", case(1, 2), 0.5, 0.01), ("entropy_coef=0", case(6, 3), 0.5, 0.0),
             ("a large entropy_coef", case(5, 2), 1.0, 0.5), ("saturated logits", case(4, 3, scale=30.0), 0.5, 0.01),
             ("value_coef=2, entropy_coef=0.2", case(7, 4), 2.0, 0.2),
             ("the default coefficients (value_coef=0.5, entropy_coef=0.01)", case(6, 3), None, None)]
    for i in range(8):
        cases.append((f"random #{i}", case(int(rng.integers(2, 33)), int(rng.integers(2, 6))),
                      float(rng.choice([0.25, 0.5, 1.0])), float(rng.choice([0.0, 0.01, 0.1]))))
    probes = []
    for label, (logits, actions, values, returns), vc, ec in cases:
        label = (f"actor_critic_loss ({label}, B={len(actions)}"
                 + (")" if vc is None else f", value_coef={vc}, entropy_coef={ec})"))

        def run(s, logits=logits, actions=actions, values=values, returns=returns, vc=vc, ec=ec):
            args = (_t(logits), torch.as_tensor(actions, dtype=torch.int64), _t(values, grad=True),
                    _t(returns, grad=True))
            coefs = {} if vc is None else {"value_coef": vc, "entropy_coef": ec}
            r = s.call("actor_critic_loss", *args, **coefs, deps=["categorical_entropy"], backward=True)
            value = r.value
            parts = ([_out(v) for v in value] if isinstance(value, (tuple, list)) else
                     {"kind": type(value).__name__})
            g_ret = _grad(r.args_after[3])
            return (parts, _grad(r.args_after[0]), _grad(r.args_after[2]),
                    bool(g_ret is not None and np.abs(g_ret).max() > 0))

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            parts, g_logits, g_values, g_returns = got
            if not isinstance(parts, list) or len(parts) != 4:
                return f"{label}: return the tuple (loss, policy_loss, value_loss, entropy)"
            for i in (1, 2, 3, 0):
                name = ("loss", "policy_loss", "value_loss", "entropy")[i]
                problem = _compare_out(f"{label}: {name}", parts[i], expected[0][i], 1e-5, 1e-5)
                if problem:
                    return problem
            if g_values is None:
                return f"{label}: no gradient reached the values (the critic would not learn)"
            problem = diff(g_values, expected[2], 1e-5, 1e-5, f"{label}: the gradient of the loss with respect to the values")
            if problem:
                return problem
            if g_returns:
                return (f"{label}: gradient flows into the returns. They are targets: use returns.detach() (a "
                        "target that carries gradient is a classic silent bug)")
            return None
        probes.append(Probe(label, run, compare, atol=1e-5, rtol=1e-5))
    # The gradient with respect to the logits: entropy_coef = 0 and moderate logits, so that the notebook's
    # own categorical_entropy (no reference piece here, see the module's docstring) changes neither the
    # loss nor its gradient. If the call raises (an unfinished categorical_entropy, say), these probes
    # pass: the probes above judge the exercise.
    for i in range(4):
        logits, actions, values, returns = case(int(rng.integers(2, 12)), int(rng.integers(2, 5)))
        label = (f"the gradient of actor_critic_loss with respect to the logits (case #{i}, B={len(actions)}, "
                 "value_coef=0.5, entropy_coef=0)")

        def run(s, logits=logits, actions=actions, values=values, returns=returns):
            args = (_t(logits, grad=True), torch.as_tensor(actions, dtype=torch.int64), _t(values, grad=True),
                    _t(returns))
            r = s.call("actor_critic_loss", *args, value_coef=0.5, entropy_coef=0.0, backward=True)
            value = r.value
            parts = ([_out(v) for v in value[:3]] if isinstance(value, (tuple, list)) and len(value) == 4 else
                     {"kind": type(value).__name__})
            return parts, _grad(r.args_after[0]), _grad(r.args_after[2])

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                return None
            parts, g_logits, g_values = got
            if not isinstance(parts, list):
                return f"{label}: return the tuple (loss, policy_loss, value_loss, entropy)"
            for i, name in enumerate(("loss", "policy_loss", "value_loss")):
                problem = _compare_out(f"{label}: {name}", parts[i], expected[0][i], 1e-5, 1e-5)
                if problem:
                    return problem
            if g_logits is None:
                return f"{label}: no gradient reached the logits (the actor would not learn)"
            problem = diff(g_logits, expected[1], 1e-5, 1e-5, label)
            if problem:
                return problem
            if g_values is None:
                return f"{label}: no gradient reached the values (the critic would not learn)"
            return diff(g_values, expected[2], 1e-5, 1e-5, f"{label}: (the values)")
        probes.append(Probe(label, run, compare, atol=1e-5, rtol=1e-5))
    return probes


# ---------------------------------------------------------------- collect_rollout: spy vector environments, a spy model

ROLLOUT_FIELDS = ("states", "actions", "rewards", "terminated", "truncated", "next_values", "last_obs")


class ScriptedVectorEnv:
    """N environments in lock-step whose episodes follow a script, whatever the actions, with Gymnasium's
    ``autoreset_mode=SAME_STEP``: a step that ends an episode returns the next episode's first observation and
    puts the ended episode's last one in ``info["final_obs"]`` (an object array, ``None`` for the others; the
    keys only at steps where some episode ended). Observations are random and distinct: each one is known
    by its values. ``events[t][i]`` is ``"term"``, ``"trunc"``, ``"both"`` or ``None``."""

    def __init__(self, rng: np.random.Generator, n_envs: int, events: list, obs_dim: int = 4):
        self.num_envs, self.events, self.obs_dim, self.rng = n_envs, events, obs_dim, rng
        self.start = self._obs(n_envs)
        self.t = 0

    def _obs(self, n):
        return self.rng.normal(size=(n, self.obs_dim)).round(3).astype(np.float32)

    def step(self, actions):
        if self.t >= len(self.events):
            raise AssertionError(f"envs.step was called more than n_steps = {len(self.events)} times")
        ev = self.events[self.t]
        self.t += 1
        final = self._obs(self.num_envs)   # s_{t+1} of each episode
        term = np.array([e in ("term", "both") for e in ev])
        trunc = np.array([e in ("trunc", "both") for e in ev])
        ended = term | trunc
        next_obs = np.where(ended[:, None], self._obs(self.num_envs), final).astype(np.float32)
        rewards = self.rng.normal(size=self.num_envs).round(2)
        info = {}
        if ended.any():
            info["final_obs"] = np.empty(self.num_envs, dtype=object)   # None where no episode ended
            for i in np.flatnonzero(ended):
                info["final_obs"][i] = final[i]
            info["_final_obs"] = ended
        return next_obs, rewards, term, trunc, info


class SpyVectorEnv:
    """A vector environment (scripted, or a real Gymnasium one) behind the wire: checks the actions as a real
    one would, records them and what each step returned, and refuses ``reset`` (the environments reset
    themselves). ``info["final_obs"]`` crosses as a float array with rows of nan where no episode ended (an
    object array cannot cross; the rows a correct answer reads are the same)."""

    def __init__(self, env, n_actions: int):
        self.env, self.n_actions, self.n = env, n_actions, env.num_envs
        self.actions, self.returned = [], []

    def reset(self, *args, **kwargs):
        raise AssertionError("collect_rollout must not reset the environments: each one resets itself when its "
                             "episode ends (autoreset), and the rollout starts from the obs it is given")

    def step(self, actions):
        if not isinstance(actions, np.ndarray):
            kind = "a torch tensor" if isinstance(actions, torch.Tensor) else f"a {type(actions).__name__}"
            raise TypeError(f"envs.step expects a numpy array of {self.n} ints (action.numpy()), got {kind}")
        if actions.shape != (self.n,) or actions.dtype.kind not in "iu":
            raise ValueError(f"envs.step expects a numpy array of {self.n} ints, one action per environment; got an "
                             f"array of shape {actions.shape} and dtype {actions.dtype}")
        if actions.min() < 0 or actions.max() >= self.n_actions:
            raise ValueError(f"envs.step got actions {actions.tolist()}, outside 0..{self.n_actions - 1}")
        self.actions.append(actions.copy())
        next_obs, rewards, term, trunc, info = self.env.step(actions)
        ended = np.asarray(term) | np.asarray(trunc)
        final = np.full(np.shape(next_obs), np.nan, dtype=np.float32)
        for i in np.flatnonzero(ended):
            final[i] = info["final_obs"][i]
        self.returned.append((np.asarray(next_obs, np.float32).copy(), np.asarray(rewards, np.float64).copy(),
                              np.asarray(term, bool).copy(), np.asarray(trunc, bool).copy(), final))
        out = {}
        if ended.any():
            out = {"final_obs": final, "_final_obs": ended}
        return next_obs, rewards, term, trunc, out


class SpyModel:
    """A frozen actor-critic behind the wire: ``logits(obs)``, ``value(obs)`` and ``model(obs)`` (both), as
    ``ActorCritic``; it records the observations it was asked about, and answers tensors that require grad,
    as a network's outputs do outside ``torch.no_grad()``."""

    def __init__(self, logits_fn, value_fn, obs_dim: int):
        self.logits_fn, self.value_fn, self.obs_dim = logits_fn, value_fn, obs_dim
        self.asked = []   # (method, observations)

    def _obs(self, method, obs):
        if not isinstance(obs, torch.Tensor):
            raise TypeError(f"model.{method} expects a float32 tensor (B, {self.obs_dim}), got a {type(obs).__name__} "
                            "(torch.as_tensor(next_obs))")
        if obs.dtype != torch.float32:
            raise RuntimeError(f"model.{method}: mat1 and mat2 must have the same dtype (the network is float32, the "
                               f"observations {obs.dtype})")
        if obs.ndim != 2 or obs.shape[1] != self.obs_dim:
            raise RuntimeError(f"model.{method} expects observations of shape (B, {self.obs_dim}), got "
                               f"{tuple(obs.shape)}")
        x = obs.detach().numpy().astype(np.float32)
        self.asked.append((method, x))
        return torch.as_tensor(x)

    def logits(self, obs):
        return self.logits_fn(self._obs("logits", obs)).detach().requires_grad_(True)

    def value(self, obs):
        return self.value_fn(self._obs("value", obs)).detach().requires_grad_(True)

    def __call__(self, obs):
        x = self._obs("__call__", obs)
        return self.logits_fn(x).detach().requires_grad_(True), self.value_fn(x).detach().requires_grad_(True)

    forward = __call__


def _linear_model(seed: int, obs_dim: int = 4, n_actions: int = 3) -> SpyModel:
    """A spy model with logits = obs @ W + b and V = obs @ w + c (distinct observations, distinct values)."""
    g = np.random.default_rng(seed)
    W, b = torch.as_tensor(g.normal(size=(obs_dim, n_actions)), dtype=torch.float32), \
        torch.as_tensor(g.normal(scale=0.5, size=n_actions), dtype=torch.float32)
    w, c = torch.as_tensor(g.normal(scale=3.0, size=obs_dim), dtype=torch.float32), float(g.normal())
    return SpyModel(lambda x: x @ W + b, lambda x: x @ w + c, obs_dim)


class _CartPoleNet(torch.nn.Module):
    """A fixed actor-critic for the CartPole probes (tanh MLPs; with ``lean`` > 0 the policy leans to pushing
    left, so that episodes terminate within the rollout; near 0 more of them reach the time limit)."""

    def __init__(self, seed: int, lean: float):
        super().__init__()
        with torch.random.fork_rng():   # the grader's own random state is left alone
            torch.manual_seed(seed)
            self.actor = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
            self.critic = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
        with torch.no_grad():
            self.actor[2].bias.copy_(torch.tensor([lean, -lean]))
            self.critic[2].bias.fill_(5.0)

    def spy(self) -> SpyModel:
        return SpyModel(lambda x: self.actor(x), lambda x: self.critic(x).squeeze(-1), 4)


def _rollout_trace(s, env, n_actions, model: SpyModel, start: np.ndarray, n_steps: int, seed: int) -> dict:
    """Run the student's collect_rollout once; what it returned, what the spies saw."""
    spy = SpyVectorEnv(env, n_actions)
    attrs = {"num_envs": env.num_envs}
    obs = torch.as_tensor(start)
    try:
        r = s.call("collect_rollout", Proxy(spy, ("step", "reset"), attrs),
                   Proxy(model, ("logits", "value", "__call__", "forward")), obs, n_steps, seed=seed)
        result, obs_after = r.value, r.args_after[2]
    except StudentRaised as exc:
        result, obs_after = exc.raised, obs
    return {"result": result, "obs_changed": diff(obs_after, torch.as_tensor(start), 0.0, 0.0) is not None,
            "start": np.asarray(start), "actions": spy.actions, "returned": spy.returned, "asked": model.asked}


def _same(a, b, atol=1e-5) -> bool:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol + 1e-5 * np.abs(b)))


def _field(result, k):
    x = result[k]
    return x.detach().numpy() if isinstance(x, torch.Tensor) else None


def rollout_problem(label: str, n_steps: int, trace: dict, values_of) -> str | None:
    """What is wrong with one spy record (None when every field and every interaction is right).
    ``values_of(obs (B, d)) -> (B,)`` is the spy model's critic."""
    result = trace["result"]
    if isinstance(result, Raised):
        return f"{label}: raised {result}"
    start, returned, sent = trace["start"], trace["returned"], trace["actions"]
    N, d = start.shape
    if len(sent) != n_steps:
        return (f"{label}: envs.step was called {len(sent)} times for n_steps={n_steps}: step all {N} environments "
                "once per rollout step")
    if not isinstance(result, (tuple, list)) or len(result) != 7:
        return (f"{label}: return a Rollout(states, actions, rewards, terminated, truncated, next_values, last_obs), "
                f"got {_show_value(result)}")
    shapes = {"states": (n_steps, N, d), "actions": (n_steps, N), "rewards": (n_steps, N), "terminated": (n_steps, N),
              "truncated": (n_steps, N), "next_values": (n_steps, N), "last_obs": (N, d)}
    kinds = {"states": "float32", "actions": "integer", "rewards": "floating", "terminated": "bool",
             "truncated": "bool", "next_values": "floating", "last_obs": "float32"}
    for k, name in enumerate(ROLLOUT_FIELDS):
        x = result[k]
        if not isinstance(x, torch.Tensor):
            return f"{label}: {name} should be a torch tensor, got {_show_value(x)}"
        if tuple(x.shape) != shapes[name]:
            return f"{label}: {name} should have shape {shapes[name]}, got {tuple(x.shape)}"
        ok = {"float32": x.dtype == torch.float32, "floating": x.is_floating_point(), "bool": x.dtype == torch.bool,
              "integer": not x.is_floating_point() and not x.is_complex() and x.dtype != torch.bool}[kinds[name]]
        if not ok:
            return f"{label}: {name} should be a {kinds[name]} tensor, got {x.dtype}"
    states, actions, rewards, term, trunc, next_values, last_obs = (_field(result, k) for k in range(7))
    nxt = np.stack([r[0] for r in returned])            # what each step returned as next_obs (after any reset)
    final = np.stack([r[4] for r in returned])          # the ended episodes' final observations (nan elsewhere)
    e_term, e_trunc = np.stack([r[2] for r in returned]), np.stack([r[3] for r in returned])
    ended = e_term | e_trunc
    expected_states = np.concatenate([start[None], nxt[:-1]])
    if not _same(states, expected_states):
        t = next(t for t in range(n_steps) if not _same(states[t], expected_states[t]))
        if n_steps > 1 and all(_same(states[u], start) for u in range(n_steps)):
            return (f"{label}: every states[t] is the first observation: obs is never advanced (after each step, obs "
                    "must become the next_obs envs.step returned)")
        if _same(states, nxt):
            return (f"{label}: states[t] is the observation after step t (next_obs): it must be s_t, the observation "
                    "the action was chosen in")
        ahead = np.where(ended[:-1, :, None], final[:-1], nxt[:-1])
        if t > 0 and _same(states[1:], ahead):
            return (f"{label}: states[{t}] is the final observation of the episode that ended at step {t - 1}: after an "
                    "episode ends the environment has reset, and the next state is next_obs (the rollout goes on in the "
                    "new episode)")
        return f"{label}: states[{t}] should be s_{t}, the observation the actions of step {t} were chosen in"
    if not np.array_equal(actions, np.stack(sent)):
        t = next(t for t in range(n_steps) if not np.array_equal(actions[t], sent[t]))
        return (f"{label}: actions[{t}] = {actions[t].tolist()}, but envs.step got {sent[t].tolist()} at step {t}: "
                "store the actions that were taken")
    asked = [x for method, x in trace["asked"] if method != "value"]
    for t in range(n_steps):
        if not any(_same(x, expected_states[t], 0.0) for x in asked):
            return (f"{label}: the policy (model.logits or model(obs)) was never asked about s_{t}, the observations "
                    f"of step {t}: choose a_t from the policy in s_t")
    if not _same(rewards, np.stack([r[1] for r in returned])):
        return f"{label}: rewards should be what envs.step returned at each step"
    if not (np.array_equal(term, e_term) and np.array_equal(trunc, e_trunc)):
        if np.array_equal(term, e_trunc) and np.array_equal(trunc, e_term):
            return f"{label}: terminated and truncated are swapped"
        if np.array_equal(term, ended):
            return (f"{label}: terminated holds terminated | truncated: a time limit is not a terminal state, keep the "
                    "two apart (n_step_returns bootstraps at a truncation)")
        which = "terminated" if not np.array_equal(term, e_term) else "truncated"
        return f"{label}: {which} should be what envs.step returned at each step"
    if result[5].requires_grad:
        return (f"{label}: next_values carry gradient: compute them under torch.no_grad() (bootstrap values are "
                "targets, and a graph kept for every step of the rollout costs memory and time)")
    after = np.where(ended[:, :, None], final, nxt)
    expected_values = np.stack([values_of(a) for a in after])
    if not _same(next_values, expected_values):
        bad = ~np.isclose(next_values, expected_values, atol=1e-5, rtol=1e-5)
        t, i = (int(v) for v in np.argwhere(bad)[0])
        if _same(next_values, np.stack([values_of(a) for a in nxt])) or np.all(bad <= ended):
            where = "truncated" if e_trunc[t, i] and not e_term[t, i] else "terminated"
            return (f"{label}: where an episode ended ({where} at step {t} in environment {i}), next_values is "
                    "V of next_obs, the first observation of the next episode: bootstrap from V(info['final_obs'][i]), "
                    "the ended episode's own final observation")
        if _same(next_values, np.stack([values_of(s) for s in expected_states])):
            return f"{label}: next_values[t] is V(s_t): it must be V(s_(t+1)), the value of the observation after step t"
        return (f"{label}: next_values[{t}, {i}] = {next_values[t, i]:.5g}, expected V(s_{t + 1}) = "
                f"{expected_values[t, i]:.5g}" + (" (the final observation of the episode that ended there)"
                                                  if ended[t, i] else ""))
    if not _same(last_obs, nxt[-1]):
        if ended[-1].any() and _same(last_obs, np.where(ended[-1][:, None], final[-1], nxt[-1])):
            return (f"{label}: last_obs holds the final observation of an episode that ended at the last step: the next "
                    "rollout must start from the reset observation (next_obs)")
        return f"{label}: last_obs should be the next_obs of the last step (where the next rollout starts)"
    if trace["obs_changed"]:
        return f"{label}: collect_rollout changed the caller's obs in place"
    return None


def _show_value(x) -> str:
    if isinstance(x, wire.Opaque):
        return f"a {x.type}"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)} items"
    return f"a {type(x).__name__}"


def _scripted_probe(label: str, n_envs: int, events: list, seed: int) -> Probe:
    n_steps = len(events)

    def run(s):
        rng = np.random.default_rng(seed)
        env = ScriptedVectorEnv(rng, n_envs, events)
        return _rollout_trace(s, env, 3, _linear_model(seed), env.start, n_steps, seed)

    values = _linear_model(seed).value_fn

    def judge(trace):
        return rollout_problem(label, n_steps, trace, lambda a: values(torch.as_tensor(a)).numpy())

    return Probe(label, run, lambda got, expected: judge(got), key=lambda t: judge(t) or "right")


def _cartpole_probe(label: str, n_envs: int, n_steps: int, seed: int, lean: float) -> Probe:
    net = _CartPoleNet(seed, lean)

    def run(s):
        import gymnasium as gym
        env = gym.make_vec("CartPole-v1", num_envs=n_envs, vectorization_mode="sync", max_episode_steps=12,
                           vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP})
        start, _ = env.reset(seed=seed)
        try:
            return _rollout_trace(s, env, 2, net.spy(), start, n_steps, seed)
        finally:
            env.close()

    def judge(trace):
        with torch.no_grad():
            return rollout_problem(label, n_steps, trace, lambda a: net.critic(torch.as_tensor(a)).squeeze(-1).numpy())

    return Probe(label, run, lambda got, expected: judge(got), key=lambda t: judge(t) or "right")


def _sampling_probe(label: str, n_envs: int, n_steps: int, seed: int) -> Probe:
    """Many steps in one scripted episode per environment (no end): do the actions follow the policy? Per
    environment and action, the count against its expectation under the policy (a sum of Bernoullis),
    within 5.5 standard deviations (a correct sampler fails one of the n_envs * 3 tests with probability
    below 1e-6)."""
    model_seed = seed

    def run(s):
        rng = np.random.default_rng(seed)
        env = ScriptedVectorEnv(rng, n_envs, [[None] * n_envs] * n_steps)
        return _rollout_trace(s, env, 3, _linear_model(model_seed), env.start, n_steps, seed)

    model = _linear_model(model_seed)

    def judge(trace):
        problem = rollout_problem(label, n_steps, trace, lambda a: model.value_fn(torch.as_tensor(a)).numpy())
        if problem:
            return problem, problem
        states = np.concatenate([trace["start"][None], np.stack([r[0] for r in trace["returned"]])[:-1]])
        probs = torch.softmax(model.logits_fn(torch.as_tensor(states)), dim=-1).numpy()   # (T, N, A)
        actions = np.stack(trace["actions"])                                               # (T, N)
        if np.array_equal(actions, probs.argmax(-1)):
            return (f"{label}: every action is the policy's most likely one: sample a_t from pi(. | s_t) "
                    "(torch.multinomial of the softmax), A2C learns from the actions its policy tries",
                    "the most likely action")
        for i in range(n_envs):
            for a in range(probs.shape[-1]):
                p = probs[:, i, a]
                count, mean, sd = int((actions[:, i] == a).sum()), p.sum(), np.sqrt((p * (1 - p)).sum())
                if abs(count - mean) > 5.5 * sd:
                    return (f"{label}: in environment {i}, action {a} was taken {count} times in {n_steps} steps; the "
                            f"policy's probabilities in those states give {mean:.1f} +- {sd:.1f}: sample a_t from "
                            "the softmax of model.logits(s_t), one row per environment", "off the policy")
        return None, "right"

    return Probe(label, run, lambda got, expected: judge(got)[0], key=lambda t: judge(t)[1])


def probes_collect_rollout() -> list[Probe]:
    rng = np.random.default_rng(508)
    n = None
    probes = [
        _scripted_probe("collect_rollout (no episode ends: N=2, T=3)", 2, [[n, n]] * 3, 11),
        _scripted_probe("collect_rollout (an episode terminates in the middle: env 0 at t=1, N=2, T=4)", 2,
                        [[n, n], ["term", n], [n, n], [n, n]], 12),
        _scripted_probe("collect_rollout (a time limit truncates an episode in the middle: env 1 at t=1, N=3, T=4)", 3,
                        [[n, n, n], [n, "trunc", n], [n, n, n], [n, n, n]], 13),
        _scripted_probe("collect_rollout (terminated and truncated on the same step: env 0 at t=0, N=2, T=3)", 2,
                        [["both", n], [n, n], [n, n]], 14),
        _scripted_probe("collect_rollout (episodes end at the last step of the rollout: env 0 terminated, env 1 "
                        "truncated, N=3, T=3)", 3, [[n, n, n], [n, n, n], ["term", "trunc", n]], 15),
        _scripted_probe("collect_rollout (one environment, one step, truncated: N=1, T=1)", 1, [["trunc"]], 16),
        _scripted_probe("collect_rollout (episodes of one step in a row: env 1 truncated at t=0, 1 and 2, N=2, T=3)", 2,
                        [[n, "trunc"], ["term", "trunc"], [n, "trunc"]], 17),
    ]
    for k in range(6):
        N, T = int(rng.integers(1, 7)), int(rng.integers(2, 13))
        u = rng.random((T, N))
        events = [[("term" if x < 0.12 else "trunc" if x < 0.24 else "both" if x < 0.27 else None) for x in row]
                  for row in u]
        probes.append(_scripted_probe(f"collect_rollout (random script #{k}: N={N}, T={T})", N, events, 30 + k))
    probes.append(_cartpole_probe("collect_rollout on CartPole-v1 (4 environments, a 12-step time limit, 30 steps, a "
                                  "fixed network that leans left)", 4, 30, 7, 1.0))
    probes.append(_cartpole_probe("collect_rollout on CartPole-v1 (2 environments, a 12-step time limit, 25 steps, "
                                  "another fixed network)", 2, 25, 8, 0.0))
    probes.append(_sampling_probe("collect_rollout's actions (4 environments, 150 steps, no episode end)", 4, 150, 21))
    return probes


# ---------------------------------------------------------------- worker_update

_SIZES = (3, 5, 2)


def _update(s, local, shared, kind, lr, max_norm, x, y, seed):
    """One call of worker_update in the student's kernel: (norm, local, shared) as data. ``local`` and
    ``shared`` are the networks as the previous call left them (parameters and gradients, stale ones
    included), or None for fresh ones."""
    def net(left, **kw):
        return wire.Net(_SIZES, "tanh", seed=seed, unused=True, state=left and left["state"],
                        grads=left and left["grads"], **kw)
    args = (wire.Loss(1, _t(x), _t(y)), net(local), net(shared, shared=True),
            wire.Optim(kind, 2, lr), max_norm)
    r = s.call("worker_update", *args)
    return r.value, r.args_after[1], r.args_after[2]


def _norm_of(value):
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach().reshape(()))
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    return f"not a number: {type(value).__name__}"


def _update_trace(value, local, shared) -> dict:
    if not isinstance(local, wire.Module) or not isinstance(shared, wire.Module):
        return {"error": "the networks did not come back"}
    names = list(shared["state"])
    return {"norm": _norm_of(value), "names": names,
            "shared": [shared["state"][n] for n in names],
            "local": [local["state"][n] for n in names],
            "left shared memory": sorted(n for n, v in shared["shared"].items() if not v),
            "aliased": sorted(n for n in names if local["ptr"].get(n) == shared["ptr"].get(n)),
            "unused grad": "None" if shared["grads"].get("unused") is None else "a tensor"}


def _compare_update(label, got: dict, expected: dict, max_norm) -> str | None:
    if "error" in got:
        return f"{label}: {got['error']}"
    if isinstance(got["norm"], str):
        return f"{label}: the returned gradient norm is {got['norm']}; return a float (what clip_grad_norm_ returns)"
    names = expected["names"]
    for i, (g, e) in enumerate(zip(got["shared"], expected["shared"])):
        problem = diff(g, e, 1e-5, 1e-5, f"{label}: the shared parameter {names[i]!r} after the update")
        if problem:
            return problem + (" The shared model must take exactly one optimizer step with the local, clipped "
                              "gradient of this update.")
    for i, (g, e) in enumerate(zip(got["local"], expected["local"])):
        problem = diff(g, e, 1e-5, 1e-5, f"{label}: the local parameter {names[i]!r} after the update")
        if problem:
            return problem + " After the step, copy the shared parameters into the local model."
    problem = diff(got["norm"], expected["norm"], 1e-5, 1e-5, f"{label}: the returned gradient norm")
    if problem:
        return problem + " Return the total norm before clipping (what clip_grad_norm_ returns)."
    if got["left shared memory"]:
        return (f"{label}: the shared parameters {got['left shared memory']} are no longer in shared memory: they "
                "were replaced by new tensors (assign to .grad and let the optimizer update in place; never rebind "
                ".data), so other workers would not see the update")
    if got["aliased"]:
        return (f"{label}: the local parameters {got['aliased']} share memory with the shared model. A worker keeps "
                "its own copy (copy values, e.g. local_p.copy_(shared_p)); otherwise other workers change its "
                "weights in the middle of its rollout and of backward()")
    if got["unused grad"] != expected["unused grad"]:
        return (f"{label}: a parameter that the loss does not reach has .grad None locally; its shared gradient "
                "must stay None too (an optimizer skips it), not become zeros or a stale tensor")
    return None


def _update_probe(label, kind, lr, max_norm, batches, seed, start_apart=False) -> Probe:
    """A sequence of ``len(batches)`` updates, each call starting from the states the previous one left."""
    def run(s):
        local = shared = None
        if start_apart:  # another worker moved the shared model since this worker's copy
            shared = {"state": {k: v + 0.1 * np.sin(np.arange(v.size).reshape(v.shape) + 1.0)
                                for k, v in _initial_state(s, seed).items()}, "grads": None}
        trace = []
        for x, y in batches:
            value, local, shared = _update(s, local, shared, kind, lr, max_norm, x, y, seed)
            step = _update_trace(value, local, shared)
            trace.append(step)
            if "error" in step:
                break
        return trace

    def compare(got, expected):
        if isinstance(got, Raised):
            return f"{label}: raised {got}"
        for i, (g, e) in enumerate(zip(got, expected)):
            problem = _compare_update(f"{label}, update {i + 1} of {len(expected)}", g, e, max_norm)
            if problem:
                return problem
        if len(got) != len(expected):
            return f"{label}: the update {len(got)} failed"
        return None
    return Probe(label, run, compare, atol=1e-5, rtol=1e-5)


def _initial_state(s, seed) -> dict:
    """The parameters a Net of this seed starts with (built by the same helper, in this process)."""
    import torch.nn as nn
    torch.manual_seed(seed)
    layers = [nn.Linear(_SIZES[0], _SIZES[1]), nn.Tanh(), nn.Linear(_SIZES[1], _SIZES[2])]
    net = nn.Sequential(*layers)
    net.unused = nn.Parameter(torch.zeros(1))
    return {k: v.detach().numpy().copy() for k, v in net.named_parameters()}


def probes_worker_update() -> list[Probe]:
    rng = np.random.default_rng(508)

    def batches(n, scale=1.0):
        return [(rng.normal(size=(4, 3)).round(3), (rng.normal(size=(4, 2)) * scale).round(3)) for _ in range(n)]
    return [
        _update_probe("worker_update (SGD lr=0.1, no clipping: max_grad_norm=1e6), 3 updates in a row",
                      "SGD", 0.1, 1e6, batches(3), seed=0),
        _update_probe("worker_update (SGD lr=0.05, clipped to 0.5), 3 updates in a row",
                      "SGD", 0.05, 0.5, batches(3, scale=3.0), seed=1),
        _update_probe("worker_update (SGD lr=0.2, clipped to 0.05), 2 updates in a row",
                      "SGD", 0.2, 0.05, batches(2, scale=5.0), seed=2),
        _update_probe("worker_update (Adam lr=0.01, clipped to 1.0), one update",
                      "Adam", 0.01, 1.0, batches(1, scale=3.0), seed=3),
        _update_probe("worker_update (Adam lr=0.05, no clipping), one update", "Adam", 0.05, 1e6, batches(1), seed=4),
        _update_probe("worker_update (SGD lr=0.1, clipped to 0.3), the shared model moved since the local copy "
                      "(another worker's update), 2 updates", "SGD", 0.1, 0.3, batches(2, scale=2.0), seed=5,
                      start_apart=True),
    ]


# ---------------------------------------------------------------- q_targets


def probes_q_targets() -> list[Probe]:
    rng = np.random.default_rng(509)
    f, t = False, True
    hand = (np.array([[1.0], [1.0]]), np.array([[f], [t]]), np.array([[f], [f]]),
            np.array([[[2.0, 4.0]], [[8.0, 8.0]]]), np.array([[0], [1]]), 0.5)
    cases = [(f"the visible example, method={m!r}", *hand, m, f) for m in ("q", "sarsa", "n-step")]
    for method in ("q", "sarsa", "n-step"):
        for i in range(7):
            T, N, A = int(rng.integers(2, 9)), int(rng.integers(1, 5)), int(rng.integers(2, 5))
            if i == 0:
                T, N = 1, 1
            rewards, terminated, truncated, _ = random_rollout(rng, T, N, p_term=0.25, p_trunc=0.2)
            next_q = rng.normal(scale=3.0, size=(T, N, A)).round(2)
            next_actions = rng.integers(0, A, size=(T, N))
            # the next action is never the greedy one in the first env: SARSA and Q-learning differ
            next_actions[:, 0] = np.argmin(next_q[:, 0], axis=-1)
            gamma = float(rng.choice([0.5, 0.9, 0.99]))
            cases.append((f"method={method!r}, case #{i}, T={T}, N={N}, A={A}, gamma={gamma}", rewards, terminated,
                          truncated, next_q, next_actions, gamma, method, i in (1, 2) and method != "n-step"))
    # next_q that requires grad only for one-step methods: for n-step, the student's code hands the max over
    # next_q to the reference n_step_returns, and a local student (the reference, a known mistake) passes a
    # reference piece's arguments through copy.deepcopy, which torch refuses for a tensor that is not a
    # graph leaf, while a kernel sends them as data: the two would disagree on a non-detached next_q.
    cases.append(("an unknown method 'td' must raise ValueError", *hand, "td", f))
    cases.append(("an unknown method 'max' must raise ValueError", *hand, "max", f))
    probes = []
    for label, rewards, te, tr, nq, na, gamma, method, grad in cases:
        label = f"q_targets({label}" + (", next_q that requires grad)" if grad else ")")

        def run(s, rewards=rewards, te=te, tr=tr, nq=nq, na=na, gamma=gamma, method=method, grad=grad):
            args = (_t(rewards), torch.as_tensor(te), torch.as_tensor(tr), _t(nq, grad=grad),
                    torch.as_tensor(na, dtype=torch.int64), gamma, method)
            try:
                r = s.call("q_targets", *args, deps=["n_step_returns"])
            except StudentRaised as exc:
                return exc.raised
            return _out(r.value), tuple(modified_args(r, args, ["rewards", "terminated", "truncated", "next_q",
                                                                 "next_actions"]))

        def compare(got, expected, label=label):
            if isinstance(expected, Raised):
                return diff(got, expected, name=label)
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            return _compare_out(label, got[0], expected[0], 1e-5, 1e-5) or _changed_problem(label, got[1], expected[1])
        probes.append(Probe(label, run, compare, atol=1e-5, rtol=1e-5))
    return probes


EXERCISES = [
    Exercise("n_step_returns", probes_n_step_returns),
    Exercise("categorical_entropy", probes_categorical_entropy),
    Exercise("actor_critic_loss", probes_actor_critic_loss, deps=("categorical_entropy",)),
    Exercise("collect_rollout", probes_collect_rollout),
    Exercise("worker_update", probes_worker_update),
    Exercise("q_targets", probes_q_targets, deps=("n_step_returns",)),
]

# ---------------------------------------------------------------- known mistakes (each written once)

_RECURSION = "running = rewards[t].float() + gamma * (~terminated[t]).float() * running"
_RESTART = "running = torch.where(truncated[t], next_values[t].float(), running)"
_HANDOVER = "shared_p.grad = None if local_p.grad is None else local_p.grad.clone()"
_FLAGS = "terminated[t], truncated[t] = torch.as_tensor(term), torch.as_tensor(trunc)"
_SAMPLE = "torch.multinomial(torch.softmax(model.logits(obs), dim=-1), 1).squeeze(-1)"
_ADVANCE = "obs = torch.as_tensor(next_obs)"

MISTAKES = [
    Mistake("n_step_returns", "bootstrapping through a terminal state (a terminated step must add nothing after its reward)",
            _RECURSION, "running = rewards[t].float() + gamma * running"),
    Mistake("n_step_returns", "a time-limit truncation treated as a terminal state (truncated steps must bootstrap from V of "
            "the final observation)", _RESTART + "\n        " + _RECURSION,
            "pass\n        running = rewards[t].float() + gamma * (~(terminated[t] | truncated[t])).float() * running"),
    Mistake("n_step_returns", "returns run across a truncation into the next episode (at a truncated step, restart from "
            "V(final observation) instead of the next step's return)", _RESTART, "pass"),
    Mistake("n_step_returns", "no bootstrap at the end of the rollout (the last step must add gamma * V(s_T) unless terminated)",
            "running = next_values[T - 1].float()", "running = torch.zeros(rewards.shape[1:])"),
    Mistake("n_step_returns", "one-step TD targets (r + gamma V(s')) instead of n-step returns",
            _RECURSION, "running = rewards[t].float() + gamma * (~terminated[t]).float() * next_values[t].float()"),
    Mistake("n_step_returns", "the first reward is discounted too (off by one in the powers of gamma)",
            "returns[t] = running", "returns[t] = gamma * running"),
    Mistake("n_step_returns", "next_values are not detached: the returns carry gradient (they are targets)",
            "next_values = next_values.detach()", "next_values = next_values"),
    Mistake("n_step_returns", "the returns are written into the caller's rewards tensor",
            "returns = torch.empty(rewards.shape, dtype=torch.float32)", "returns = rewards"),
    Mistake("categorical_entropy", "the minus sign is missing (entropy is -sum p log p, a non-negative number)",
            "return -(", "return ("),
    Mistake("categorical_entropy", "log base 2 (bits) instead of the natural log (nats)",
            ".sum(dim=-1)", ".sum(dim=-1) / np.log(2.0)"),
    Mistake("categorical_entropy", "averaged over actions instead of summed", ".sum(dim=-1)", ".mean(dim=-1)"),
    Mistake("categorical_entropy", "sum of p * logits instead of p * log p (log_softmax is missing)",
            "* log_probs)", "* logits)"),
    Mistake("categorical_entropy", "log(softmax(logits)) gives log(0) = -inf and 0 * -inf = nan for confident policies "
            "(use F.log_softmax)", "F.log_softmax(logits, dim=-1)", "torch.log(F.softmax(logits, dim=-1))"),
    Mistake("categorical_entropy", "softmax over the batch axis (dim=0) instead of the action axis",
            "F.log_softmax(logits, dim=-1)", "F.log_softmax(logits, dim=0)"),
    Mistake("categorical_entropy", "the result is detached: the entropy bonus could not change the policy",
            ".sum(dim=-1)", ".sum(dim=-1).detach()"),
    Mistake("categorical_entropy", "summed over the batch too (one number instead of one per row)", ".sum(dim=-1)", ".sum()"),
    Mistake("actor_critic_loss", "the entropy term has the wrong sign (loss = ... + entropy_coef * entropy punishes "
            "exploration; it must be - entropy_coef * entropy)", "- entropy_coef * entropy\n    return", "+ entropy_coef * entropy\n    return"),
    Mistake("actor_critic_loss", "the advantages carry gradient into the actor loss (use returns - values.detach() in the "
            "policy loss: the actor's loss must not train the critic)",
            "advantages = returns - values.detach()", "advantages = returns - values"),
    Mistake("actor_critic_loss", "the advantage has the wrong sign (V - R instead of R - V)",
            "advantages = returns - values.detach()", "advantages = values.detach() - returns"),
    Mistake("actor_critic_loss", "the value loss is halved (this exercise defines it as the mean of (R - V)^2; value_coef "
            "weights it)", "value_loss = (returns - values).pow(2).mean()", "value_loss = 0.5 * (returns - values).pow(2).mean()"),
    Mistake("actor_critic_loss", "sums over the batch instead of means",
            "policy_loss = -(log_probs * advantages).mean()\n    value_loss = (returns - values).pow(2).mean()\n"
            "    entropy = categorical_entropy(logits).mean()",
            "policy_loss = -(log_probs * advantages).sum()\n    value_loss = (returns - values).pow(2).sum()\n"
            "    entropy = categorical_entropy(logits).sum()"),
    Mistake("actor_critic_loss", "probabilities instead of log-probabilities in the policy loss",
            "policy_loss = -(log_probs * advantages)", "policy_loss = -(log_probs.exp() * advantages)"),
    Mistake("actor_critic_loss", "the returns are not detached: gradient flows into them (they are targets)",
            "returns = returns.detach()", "returns = returns"),
    Mistake("actor_critic_loss", "the values are detached in the value loss too (the critic cannot learn)",
            "(returns - values).pow(2)", "(returns - values.detach()).pow(2)"),
    Mistake("actor_critic_loss", "value_coef is ignored (the value loss enters with weight 1)",
            "value_coef * value_loss - entropy_coef * entropy\n", "value_loss - entropy_coef * entropy\n"),
    Mistake("actor_critic_loss", "the log-probabilities are detached: the policy loss sends no gradient to the actor",
            ".squeeze(-1)\n    policy_loss", ".squeeze(-1).detach()\n    policy_loss"),
    Mistake("collect_rollout", "bootstrapping from the reset observation: where an episode ended, next_values is V of "
            "next_obs (the next episode's first observation) instead of V(info['final_obs'][i])",
            'after[i] = info["final_obs"][i]', "pass"),
    Mistake("collect_rollout", "the final observation is used only where an episode terminated: after a truncation "
            "next_values is V of the reset observation (the one place where it is the bootstrap)",
            "np.flatnonzero(term | trunc)", "np.flatnonzero(term)"),
    Mistake("collect_rollout", "the observation after the step (next_obs) is stored as the state: states[t] must be "
            "s_t, the observation the action was chosen in",
            "states[t], actions[t] = obs, action", "states[t], actions[t] = torch.as_tensor(next_obs), action"),
    Mistake("collect_rollout", "terminated and truncated swapped", _FLAGS,
            "terminated[t], truncated[t] = torch.as_tensor(trunc), torch.as_tensor(term)"),
    Mistake("collect_rollout", "truncated merged into terminated (terminated | truncated): a time limit stored as a "
            "terminal state", _FLAGS, "terminated[t], truncated[t] = torch.as_tensor(term | trunc), torch.as_tensor(trunc)"),
    Mistake("collect_rollout", "next_values carry gradient (computed outside torch.no_grad())",
            "with torch.no_grad():  # acting", "if True:  # acting"),
    Mistake("collect_rollout", "the most likely action (argmax) instead of an action sampled from the policy",
            _SAMPLE, "model.logits(obs).argmax(dim=-1)"),
    Mistake("collect_rollout", "the softmax over the environments (dim=0) instead of over the actions",
            _SAMPLE, _SAMPLE.replace("dim=-1", "dim=0")),
    Mistake("collect_rollout", "obs is never advanced: every step acts in the rollout's first observations",
            _ADVANCE, "pass"),
    Mistake("collect_rollout", "the rollout goes on from the final observation of an ended episode instead of the reset "
            "observation next_obs (the environment has already reset)", _ADVANCE, "obs = torch.as_tensor(after)"),
    Mistake("collect_rollout", "next_values[t] is V(s_t) instead of V(s_(t+1))",
            "next_values[t] = model.value(torch.as_tensor(after))", "next_values[t] = model.value(obs)"),
    Mistake("worker_update", "the gradients are not clipped to max_grad_norm",
            "clip_grad_norm_(local_model.parameters(), max_grad_norm)",
            "clip_grad_norm_(local_model.parameters(), float('inf'))"),
    Mistake("worker_update", "the local model is not synchronised with the shared parameters after the step (the worker "
            "keeps acting with stale weights)", "local_p.copy_(shared_p)", "pass"),
    Mistake("worker_update", "the norm after clipping instead of before (return what clip_grad_norm_ returns)",
            "return float(norm)", "return min(float(norm), max_grad_norm)"),
    Mistake("worker_update", "the local parameters are pointed at the shared memory (local_p.data = shared_p.data) "
            "instead of copying values", "local_p.copy_(shared_p)", "local_p.data = shared_p.data"),
    Mistake("worker_update", "the shared parameters are replaced by new tensors (they leave shared memory)",
            "local_p.copy_(shared_p)", "shared_p.data = shared_p.data.clone()\n            local_p.copy_(shared_p)"),
    Mistake("worker_update", "a parameter that the loss does not reach gets a zero gradient instead of None",
            _HANDOVER, "shared_p.grad = torch.zeros_like(shared_p) if local_p.grad is None else local_p.grad.clone()"),
    Mistake("worker_update", "a parameter that the loss does not reach (its .grad is None) makes the hand-over crash",
            _HANDOVER, "shared_p.grad = local_p.grad.clone()"),
    Mistake("worker_update", "the optimizer steps before the gradients are handed over",
            "        " + _HANDOVER + "\n    shared_optimizer.step()\n",
            "        " + _HANDOVER.replace("shared_p.grad =", "pass  #") + "\n    shared_optimizer.step()\n"
            "    for local_p, shared_p in zip(local_model.parameters(), shared_model.parameters()):\n"
            "        " + _HANDOVER + "\n"),
    Mistake("worker_update", "the local gradients are not cleared before backward() (zero_grad() missing): each "
            "update adds the previous update's gradient", "    local_model.zero_grad(set_to_none=True)\n", ""),
    Mistake("worker_update", "the gradient is handed over only while the shared .grad is None (the 'alias once' idiom "
            "of torch < 2.0): since zero_grad() sets .grad to None, later updates step with a stale gradient",
            _HANDOVER, "if shared_p.grad is None:\n            shared_p._grad = local_p.grad"),
    Mistake("worker_update", "the optimizer steps twice per update",
            "shared_optimizer.step()", "shared_optimizer.step()\n    shared_optimizer.step()"),
    Mistake("q_targets", "bootstrapping through a terminal state",
            "gamma * (~terminated).float() * bootstrap", "gamma * bootstrap"),
    Mistake("q_targets", "a time-limit truncation treated as a terminal state",
            "next_q = next_q.detach().float()",
            "next_q = next_q.detach().float()\n    terminated, truncated = terminated | truncated, torch.zeros_like(truncated)"),
    Mistake("q_targets", "the SARSA target (Q of the next action) instead of Q-learning's max over next actions",
            "bootstrap = next_q.max(dim=-1).values",
            "bootstrap = next_q.gather(-1, next_actions.long().unsqueeze(-1)).squeeze(-1)"),
    Mistake("q_targets", "min over next actions instead of max",
            "bootstrap = next_q.max(dim=-1).values", "bootstrap = next_q.min(dim=-1).values"),
    Mistake("q_targets", "Q-learning's max over next actions instead of SARSA's Q of the action actually taken next",
            "bootstrap = next_q.gather(-1, next_actions.long().unsqueeze(-1)).squeeze(-1)",
            "bootstrap = next_q.max(dim=-1).values"),
    Mistake("q_targets", "one-step targets instead of n-step returns",
            "    if method == \"n-step\":\n        return n_step_returns(rewards, terminated, truncated, "
            "next_q.max(dim=-1).values, gamma)\n    if method == \"q\":",
            "    if method in (\"q\", \"n-step\"):"),
    Mistake("q_targets", "n-step returns that run across a truncation into the next episode",
            "n_step_returns(rewards, terminated, truncated,", "n_step_returns(rewards, terminated, torch.zeros_like(truncated),"),
    Mistake("q_targets", "next_q is not detached: the targets carry gradient (the target network's values are constants)",
            "next_q = next_q.detach().float()", "next_q = next_q.float()"),
]

# ---------------------------------------------------------------- equivalent mutants
# (exercise, original line, mutated line or "*", why no check can kill it)

EQUIVALENT_MUTANTS = [
    ('n_step_returns', 'if t < T - 1:  # a truncated step restarts from V(final observation)',
     '*',
     "the guard only skips the restart at the last step, where running is next_values[T - 1] already: a restart there changes nothing, so any guard that keeps the other steps' restarts is equivalent"),
    ('categorical_entropy', 'log_probs = F.log_softmax(logits, dim=-1)',
     'log_probs = F.log_softmax(logits, dim=+1)',
     "the contract's logits are (B, A): axis 1 is the last axis (a single row is outside the contract)"),
    ('categorical_entropy', 'return -(log_probs.exp() * log_probs).sum(dim=-1)',
     'return -(log_probs.exp() * log_probs).sum(dim=+1)',
     "the contract's logits are (B, A): axis 1 is the last axis (a single row is outside the contract)"),
    ('actor_critic_loss', 'log_probs = F.log_softmax(logits, dim=-1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)',
     'log_probs = F.log_softmax(logits, dim=+1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)',
     "the contract's logits are (B, A): axis 1 is the last axis (a single row is outside the contract)"),
    ('actor_critic_loss', 'log_probs = F.log_softmax(logits, dim=-1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)',
     'log_probs = F.log_softmax(logits, dim=-1).gather(+1, actions.long().unsqueeze(-1)).squeeze(-1)',
     "the contract's logits are (B, A): axis 1 is the last axis (a single row is outside the contract)"),
    ('actor_critic_loss', 'log_probs = F.log_softmax(logits, dim=-1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)',
     'log_probs = F.log_softmax(logits, dim=-1).gather(-1, actions.long().unsqueeze(+1)).squeeze(-1)',
     'actions are (B,): unsqueeze(1) is unsqueeze(-1)'),
    ('actor_critic_loss', 'log_probs = F.log_softmax(logits, dim=-1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)',
     'log_probs = F.log_softmax(logits, dim=-1).gather(-1, actions.long().unsqueeze(-1)).squeeze(+1)',
     'the gathered log-probabilities are (B, 1): axis 1 is the last axis'),
    ('categorical_entropy', 'log_probs = F.log_softmax(logits, dim=-1)',
     'log_probs = F.log_softmax(logits, dim=1)',
     "the contract's logits are (B, A): axis 1 is the last axis (a single row is outside the contract)"),
    ('categorical_entropy', 'return -(log_probs.exp() * log_probs).sum(dim=-1)',
     'return -(log_probs.exp() * log_probs).sum(dim=1)',
     "the contract's logits are (B, A): axis 1 is the last axis (a single row is outside the contract)"),
    ('actor_critic_loss', 'log_probs = F.log_softmax(logits, dim=-1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)',
     'log_probs = F.log_softmax(logits, dim=1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)',
     "the contract's logits are (B, A): axis 1 is the last axis (a single row is outside the contract)"),
    ('actor_critic_loss', 'log_probs = F.log_softmax(logits, dim=-1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)',
     'log_probs = F.log_softmax(logits, dim=-1).gather(1, actions.long().unsqueeze(-1)).squeeze(-1)',
     "the contract's logits are (B, A): axis 1 is the last axis (a single row is outside the contract)"),
    ('actor_critic_loss', 'log_probs = F.log_softmax(logits, dim=-1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)',
     'log_probs = F.log_softmax(logits, dim=-1).gather(-1, actions.long().unsqueeze(1)).squeeze(-1)',
     'actions are (B,): unsqueeze(1) is unsqueeze(-1)'),
    ('actor_critic_loss', 'log_probs = F.log_softmax(logits, dim=-1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)',
     'log_probs = F.log_softmax(logits, dim=-1).gather(-1, actions.long().unsqueeze(-1)).squeeze(1)',
     'the gathered log-probabilities are (B, 1): axis 1 is the last axis'),
    ('worker_update', 'local_model.zero_grad(set_to_none=True)',
     'local_model.zero_grad(set_to_none=False)',
     'zeroing the previous gradients in place or dropping them both clear them (a parameter without gradient keeps None either way)'),
    ('collect_rollout', 'for i in np.flatnonzero(term | trunc):',
     'for i in np.flatnonzero(term + trunc):',
     "terminated and truncated are numpy bool arrays (as a Gymnasium vector env returns them): the sum of two bool "
     "arrays is their logical or"),
    ('collect_rollout', 'action = torch.multinomial(torch.softmax(model.logits(obs), dim=-1), 1).squeeze(-1)',
     'action = torch.multinomial(torch.softmax(model.logits(obs), dim=+1), 1).squeeze(-1)',
     "the contract's logits are (N, n_actions): axis 1 is the last axis"),
    ('collect_rollout', 'action = torch.multinomial(torch.softmax(model.logits(obs), dim=-1), 1).squeeze(-1)',
     'action = torch.multinomial(torch.softmax(model.logits(obs), dim=1), 1).squeeze(-1)',
     "the contract's logits are (N, n_actions): axis 1 is the last axis"),
    ('collect_rollout', 'action = torch.multinomial(torch.softmax(model.logits(obs), dim=-1), 1).squeeze(-1)',
     'action = torch.multinomial(torch.softmax(model.logits(obs), dim=-1), 1).squeeze(+1)',
     "torch.multinomial(probs (N, n_actions), 1) is (N, 1): axis 1 is the last axis"),
    ('collect_rollout', 'action = torch.multinomial(torch.softmax(model.logits(obs), dim=-1), 1).squeeze(-1)',
     'action = torch.multinomial(torch.softmax(model.logits(obs), dim=-1), 1).squeeze(1)',
     "torch.multinomial(probs (N, n_actions), 1) is (N, 1): axis 1 is the last axis"),
    ('q_targets', 'if method == "q":',
     'if method is "q":',
     "CPython keeps one object per one-character string: method is 'q' exactly when method == 'q'"),
]
