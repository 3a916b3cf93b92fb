"""Hidden checks of chapter 04, policy gradients (instructors only), run by the grader outside the
student's kernel.

The reference of every exercise is the instructor's solution cell, extracted into
``solution_04_policy_gradient.py`` (``python -m autograder.verdict.extract 04_policy_gradient``). This
file holds what is *not* the solution: seeded inputs (batches with episode ends in the middle,
terminated and truncated steps, batches of one, huge logits, narrow and wide Gaussians), scripted spy
environments, a spy policy and a spy critic that watch ``collect_episodes`` step by step, the probes
of each exercise, and the registry of known mistakes, each written once as an edit of the solution.

``collect_episodes`` is judged against what the spy environments saw, not against the reference's
batch: any order of stepping the environments that keeps the rules of the batch (whole episodes, at
least ``batch_size`` steps, no episode started once the batch was full) is accepted.

Gradients. The wire back-propagates a call's result only when it is a scalar tensor. ``pg_loss`` is
one, so its probes read the gradients of ``logp`` (which must be ``-weights / N``) and of ``weights``
(which must stay zero or None). ``categorical_log_prob`` and ``gaussian_log_prob`` return one value
per row; their gradient probes call them on a *single* state (logits ``(A,)`` and a 0-d action; a mean,
log-std and action of shape ``(d,)``), for which the reference returns a scalar that the wire
back-propagates. The contract only promises batches ``(N, ...)``: an answer that cannot take a single
state (it raises there) is not marked down by those probes, whose gradient is then left to the
``requires_grad`` flag the batch probes check. (A wire option to back-propagate ``result.sum()`` would
let every batch probe check gradients; see the report of this conversion.)
"""
from __future__ import annotations

import math

import numpy as np
import torch

from autograder.verdict.core import Exercise, Mistake, Probe, StudentRaised, diff, modified_args
from autograder.verdict.wire import Callback, Proxy, Raised

CHAPTER = "04_policy_gradient"
PREAMBLE = "import math\nimport numpy as np\nimport torch"

# ---------------------------------------------------------------- reading answers


def _out(x) -> dict:
    """A result as comparable data: its kind, shape, values (non-finite entries replaced by 0 and
    listed in ``nonfinite``: 1 nan, 2 +inf, 3 -inf, so that the same -inf agrees with itself) and, for
    a tensor, whether it carries gradient."""
    if isinstance(x, torch.Tensor):
        kind, rg, a = "tensor", bool(x.requires_grad), x.detach().numpy()
    elif isinstance(x, np.ndarray):
        kind, rg, a = "ndarray", False, x
    elif isinstance(x, (bool, np.bool_)):
        return {"kind": "bool"}
    elif isinstance(x, (int, float, np.integer, np.floating)):
        kind, rg, a = "number", False, np.asarray(x)
    elif isinstance(x, (list, tuple)):
        try:
            a = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            return {"kind": type(x).__name__}
        kind, rg = "list", False
    else:
        return {"kind": type(x).__name__}
    if a.dtype.kind not in "biuf":
        return {"kind": f"{kind} of {a.dtype}"}
    values = a.astype(np.float64)
    nonfinite = np.where(np.isnan(values), 1, np.where(values == np.inf, 2, np.where(values == -np.inf, 3, 0)))
    return {"kind": kind, "shape": tuple(int(d) for d in a.shape), "int": a.dtype.kind in "biu",
            "values": np.where(nonfinite > 0, 0.0, values), "nonfinite": nonfinite, "rg": rg}


def _grad(t):
    """The gradient a leaf tensor came back with (zeros and None both mean: no gradient)."""
    g = getattr(t, "grad", None)
    if g is None:
        return None
    # nan and infinities as sentinels, so that a known mistake's nan agrees with the same nan
    return np.nan_to_num(g.detach().numpy().astype(np.float64), nan=1e300, posinf=1e301, neginf=-1e301)


def _compare_out(label: str, got: dict, expected: dict, atol: float, rtol: float,
                 tensor: bool) -> str | None:
    """What is wrong with a result read by :func:`_out`, against the reference's."""
    kinds = ("tensor",) if tensor else ("ndarray", "tensor", "list")
    if got.get("kind") not in kinds:
        wanted = "a torch tensor" if tensor else "a float numpy array"
        return f"{label}: expected {wanted}, got a {got.get('kind')}"
    if got["shape"] != expected["shape"]:
        hint = ""
        if got["shape"] in (expected["shape"] + (1,), expected["shape"] * 2) or got["shape"] == ():
            hint = (" A trailing dimension of 1 or an (N, N) result is the classic broadcasting bug: (N,) "
                    "combined with (N, 1) gives (N, N).")
        return f"{label}: expected shape {expected['shape']}, got {got['shape']}.{hint}"
    if got["int"] and not expected["int"]:
        return f"{label}: the result is an integer array; the values must be floats (convert the input with dtype=np.float64)"
    bad = np.flatnonzero(got["nonfinite"].ravel() != expected["nonfinite"].ravel())
    if bad.size:
        i = int(bad[0])
        names = {0: "a finite number", 1: "nan", 2: "inf", 3: "-inf"}
        return (f"{label}: entry {i} is {names[int(got['nonfinite'].ravel()[i])]}, expected "
                f"{names[int(expected['nonfinite'].ravel()[i])]}")
    problem = diff(got["values"], expected["values"], atol, rtol, label)
    if problem:
        return problem
    if not tensor and got["kind"] == "tensor" and got["rg"]:
        return f"{label}: the result is a tensor that carries gradient; return a float numpy array"
    if tensor and expected["rg"] and not got["rg"]:
        return (f"{label}: the result carries no gradient (it was detached, computed under no_grad or "
                "through numpy): the loss could not train the network")
    return None


def _show(x) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    text = repr(x)
    return text if len(text) < 120 else text[:117] + "..."


def _modified(result, args, names) -> tuple:
    return tuple(modified_args(result, args, names))


def _changed_problem(label, got, expected) -> str | None:
    if got and not expected:
        return f"{label}: changed its argument{'s' if len(got) > 1 else ''} {', '.join(got)} in place (the caller's data must not change)"
    return None


def _t(x, dtype=torch.float32, grad=False) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x)).to(dtype)
    return t.requires_grad_(True) if grad else t


# ---------------------------------------------------------------- categorical_log_prob


def probes_categorical_log_prob() -> list[Probe]:
    rng = np.random.default_rng(403)
    cases = [("a batch of one, logits (0, 0)", np.array([[0.0, 0.0]]), np.array([1])),
             ("two rows, logits (0, log 3) and (1, 1)", np.array([[0.0, math.log(3.0)], [1.0, 1.0]]), np.array([1, 0])),
             ("huge logits (a log of the softmax underflows to -inf)",
              np.array([[0.0, 1000.0, -50.0], [200.0, -300.0, 0.0], [5.0, 4.0, 3.0]]), np.array([0, 1, 2])),
             ("N = A = 3 (the batch and action axes have the same length)",
              np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0], [2.5, 0.5, 0.0]]), np.array([2, 0, 1]))]
    for i in range(12):
        N, A = int(rng.integers(2, 40)), int(rng.integers(2, 7))
        if N == A:
            N += 1
        scale = 100.0 if i % 4 == 3 else 3.0
        cases.append((f"random batch #{i}, N={N}, A={A}, |logits| up to {scale:g}",
                      (rng.normal(size=(N, A)) * scale).round(3), rng.integers(0, A, size=N)))
    probes = []
    for label, logits, actions in cases:
        label = f"categorical_log_prob on {label}"

        def run(s, logits=logits, actions=actions):
            args = (_t(logits, torch.float64, grad=True), torch.as_tensor(actions, dtype=torch.int64))
            r = s.call("categorical_log_prob", *args)
            return _out(r.value), _modified(r, args, ["logits", "actions"])

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            return (_compare_out(label, got[0], expected[0], 1e-6, 1e-6, tensor=True)
                    or _changed_problem(label, got[1], expected[1]))
        probes.append(Probe(label, run, compare, atol=1e-6, rtol=1e-6))
    return probes


def _single_state_probe(label, fn, make_args, grad_of) -> Probe:
    """A probe calling ``fn`` on one state (a 0-d result, back-propagated): its value, whether it
    carries gradient and the gradients of the arguments ``grad_of``. An answer that cannot take a
    single state (it raises) passes: the contract promises batches only."""
    def run(s):
        args = make_args()
        r = s.call(fn, *args, backward=True)
        return _out(r.value), tuple(_grad(r.args_after[i]) for i in grad_of)

    def compare(got, expected):
        if isinstance(got, Raised):
            return None
        problem = _compare_out(label, got[0], expected[0], 1e-6, 1e-6, tensor=True)
        if problem:
            return problem
        for g, e in zip(got[1], expected[1]):
            if g is None:
                return f"{label}: no gradient reached the inputs"
            problem = diff(g, e, 1e-6, 1e-6, label)
            if problem:
                return problem
        return None
    return Probe(label, run, compare, atol=1e-6, rtol=1e-6)


# ---------------------------------------------------------------- pg_loss


def probes_pg_loss() -> list[Probe]:
    rng = np.random.default_rng(404)
    cases = [("logp=(-1, -2), weights=(1, 3)", np.array([-1.0, -2.0]), np.array([1.0, 3.0]), True),
             ("a batch of one", np.array([-0.7]), np.array([2.5]), True),
             ("weights that carry no gradient", np.array([-0.2, -1.5, -3.0]), np.array([1.0, -2.0, 0.5]), False)]
    for i in range(10):
        N = int(rng.integers(2, 200))
        cases.append((f"random batch #{i}, N={N}", (-rng.random(N) * 3).round(4),
                      (rng.normal(size=N) * 5 + (2.0 if i % 2 else 0.0)).round(4), True))
    probes = []
    for label, logp, weights, weights_grad in cases:
        label = f"pg_loss({label})"

        def run(s, logp=logp, weights=weights, weights_grad=weights_grad):
            args = (_t(logp, torch.float64, grad=True), _t(weights, torch.float64, grad=weights_grad))
            r = s.call("pg_loss", *args, backward=True)
            w_grad = _grad(r.args_after[1])
            return (_out(r.value), _grad(r.args_after[0]),
                    bool(w_grad is not None and np.abs(w_grad).max() > 0), _modified(r, args, ["logp", "weights"]))

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            value, logp_grad, weights_grad, changed = got
            if value.get("kind") == "number":
                return (f"{label}: returned a Python number, not a tensor (.item() or float()): no gradient "
                        "can flow back to the policy")
            problem = _compare_out(label, value, expected[0], 1e-6, 1e-6, tensor=True)
            if problem:
                if value.get("shape") not in (None, ()):
                    problem += " The loss must be a scalar (a 0-dim tensor)."
                return problem
            if logp_grad is None:
                return f"{label}: no gradient reached logp (build the loss from it, as a torch expression)"
            problem = diff(logp_grad, expected[1], 1e-6, 1e-6, f"{label}: d loss / d logp")
            if problem:
                return problem
            if weights_grad:
                return (f"{label}: gradient flows into the weights: they are targets (returns or advantages), "
                        "treat them as constants with weights.detach(); otherwise the policy loss also trains "
                        "the value network, in the wrong direction")
            return _changed_problem(label, changed, expected[3])
        probes.append(Probe(label, run, compare))
    return probes


# ---------------------------------------------------------------- discount_cumsum and reward_to_go


def _numpy_probe(label, fn, args, names, atol=1e-8, rtol=1e-8) -> Probe:
    """A probe of a numpy exercise: the result (a float array of the reference's shape) and the
    arguments it changed in place."""
    def run(s):
        fresh = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        r = s.call(fn, *fresh)
        return _out(r.value), _modified(r, fresh, names)

    def compare(got, expected):
        if isinstance(got, Raised):
            return f"{label}: raised {got}"
        return (_compare_out(label, got[0], expected[0], atol, rtol, tensor=False)
                or _changed_problem(label, got[1], expected[1]))
    return Probe(label, run, compare, atol=atol, rtol=rtol)


def probes_discount_cumsum() -> list[Probe]:
    rng = np.random.default_rng(401)
    cases = [(np.array([3.0]), 0.9), (np.array([1.0, 2.0, 3.0]), 0.0), (np.array([1.0, 2.0, 3.0]), 1.0),
             (np.array([1.0, 2.0, 3.0]), 0.5), (np.array([0.0, 0.0, 10.0]), 0.5), (np.ones(50), 0.99),
             ([1.0, 1.0], 0.5), (np.array([1, 2, 3]), 0.5), ([2, 0, 1, 5], 0.9), (np.array([]), 0.9)]
    for _ in range(14):
        cases.append((rng.normal(size=int(rng.integers(2, 60))).round(3), float(rng.uniform(0.05, 1.0))))
    probes = []
    for x, gamma in cases:
        kind = ("a list" if isinstance(x, list) else f"an {np.asarray(x).dtype} array")
        shown = ", ".join(f"{float(v):g}" for v in list(x)[:5]) + (", ..." if len(x) > 5 else "")
        label = f"discount_cumsum([{shown}] ({kind} of length {len(x)}), gamma={gamma:.3f})"
        probes.append(_numpy_probe(label, "discount_cumsum", (x, gamma), ["x", "gamma"]))
    return probes


def probes_reward_to_go() -> list[Probe]:
    rng = np.random.default_rng(402)
    f, t = False, True
    cases = [
        ("a batch of one step, episode over", np.array([2.0]), np.array([t]), 0.9),
        ("a batch of one step, episode continues", np.array([2.0]), np.array([f]), 0.9),
        ("every step its own episode", np.array([1.0, 2.0, 3.0]), np.array([t, t, t]), 0.9),
        ("two episodes, gamma=0.5", np.ones(5), np.array([f, t, f, f, t]), 0.5),
        ("two episodes, gamma=1", np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([f, t, f, f, t]), 1.0),
        ("the batch ends inside an episode", np.array([1.0, 2.0, 3.0, 4.0]), np.array([f, t, f, f]), 0.5),
        ("the batch starts with an episode's last step", np.array([3.0, 1.0, 1.0]), np.array([t, f, f]), 0.9),
        ("one long episode", np.ones(30), np.array([f] * 29 + [t]), 0.95),
        ("integer rewards (a list) and dones as a list", [1, 2, 3, 4], [f, t, f, t], 0.5),
    ]
    for i in range(14):
        T = int(rng.integers(4, 60))
        dones = rng.random(T) < 0.2
        dones[int(rng.integers(1, T - 1))] = True  # at least one boundary inside the batch
        cases.append((f"random batch #{i} ({int(dones.sum())} episode ends)", rng.normal(size=T).round(3),
                      dones, float(rng.uniform(0.5, 1.0))))
    return [_numpy_probe(f"reward_to_go ({label}, T={len(r)}, gamma={gamma:.2f})", "reward_to_go",
                         (r, d, gamma), ["rewards", "dones", "gamma"])
            for label, r, d, gamma in cases]


# ---------------------------------------------------------------- collect_episodes: scripted spy environments


def _plain_int(x):
    return int(x) if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)) else x


class SpyWorld:
    """``n`` scripted environments sharing one clock (the env steps taken in all, in time order).

    Env ``k``'s observation in step ``t`` of its episode ``e`` is ``(k, e, t, 0.5)`` (float32): every
    observation is recognisable. Episode ``e`` of env ``k`` lasts ``endings[k][e][0]`` steps and ends
    ``"terminated"``, ``"truncated"`` or ``"both"``; its rewards are scripted. The world records, per
    env, each episode's start (the clock at its reset) and each step (observation acted on, action
    received, reward, both flags, observation returned, the clock after it). It refuses a step before a
    reset, after an episode ended, or once far more steps than the batch needs were taken."""

    def __init__(self, endings, rewards, batch_size):
        self.endings, self.rewards, self.batch_size = endings, rewards, batch_size
        self.clock, self.limit = 0, 10 * batch_size + 100
        self.episodes = [[] for _ in endings]   # per env: [{"start": clock, "steps": [...]}, ...]
        self.current = [None] * len(endings)    # per env: the observation it is in, None when not playing
        self.envs = [SpyEnv(self, k) for k in range(len(endings))]

    @staticmethod
    def observation(k, e, t):
        return np.array([k, e, t, 0.5], dtype=np.float32)

    def reset(self, k):
        e = len(self.episodes[k])
        if e >= len(self.endings[k]):
            raise AssertionError(f"env {k} was reset {e + 1} times: far more episodes than the batch needs")
        self.episodes[k].append({"start": self.clock, "steps": []})
        self.current[k] = self.observation(k, e, 0)
        return self.current[k].copy(), {}

    def step(self, k, action):
        if self.current[k] is None:
            raise AssertionError(f"env {k}: env.step() was called before env.reset() or after its episode ended "
                                 "(terminated or truncated): reset it first, or let it stop")
        if self.clock >= self.limit:
            raise AssertionError(f"the environments were stepped {self.clock} times for batch_size="
                                 f"{self.batch_size}: once the batch holds batch_size steps, an env whose episode "
                                 "ends must stop")
        e = len(self.episodes[k]) - 1
        episode = self.episodes[k][e]
        t = len(episode["steps"])
        length, how = self.endings[k][e]
        self.clock += 1
        over = t + 1 == length
        term, trunc = over and how != "truncated", over and how != "terminated"
        s_next = self.observation(k, e, t + 1)
        episode["steps"].append({"s": self.current[k], "a": _plain_int(action), "r": float(self.rewards[k][e][t]),
                                 "term": term, "trunc": trunc, "s_next": s_next, "clock": self.clock})
        self.current[k] = None if over else s_next
        return s_next.copy(), float(self.rewards[k][e][t]), term, trunc, {}

    def record(self):
        return [[{"start": ep["start"], "steps": [dict(st, s=st["s"].tolist(), s_next=st["s_next"].tolist())
                                                  for st in ep["steps"]]} for ep in eps] for eps in self.episodes]


class SpyEnv:
    def __init__(self, world, k):
        self.world, self.k = world, k

    def reset(self, seed=None, options=None):
        return self.world.reset(self.k)

    def step(self, action):
        return self.world.step(self.k, action)


class SpyActions:
    """A spy policy: answers 1000, 1001, ... (one new action per row asked) and remembers the row."""

    def __init__(self):
        self.asked = {}

    def __call__(self, obs):
        rows = np.asarray(obs, dtype=np.float64).reshape(len(obs), -1)
        actions = np.arange(1000 + len(self.asked), 1000 + len(self.asked) + len(rows), dtype=np.int64)
        for a, row in zip(actions, rows):
            self.asked[int(a)] = row.tolist()
        return actions


def spy_value(obs):
    """A spy critic: V(k, e, t, .) = 10000 k + 100 e + t + 0.25 (float32, exact), one value per row."""
    rows = np.asarray(obs, dtype=np.float64).reshape(len(obs), -1)
    return (10000 * rows[:, 0] + 100 * rows[:, 1] + rows[:, 2] + 0.25).astype(np.float32)


def _code(row) -> float:
    return float(spy_value(np.asarray([row]))[0])


def _show_obs(row) -> str:
    return f"(env {int(row[0])}, episode {int(row[1])}, step {int(row[2])})"


def _collect_trace(s, endings, rewards, batch_size):
    from gymnasium import spaces
    world, policy = SpyWorld(endings, rewards, batch_size), SpyActions()
    attrs = {"observation_space": spaces.Box(-np.inf, np.inf, (4,), dtype=np.float32),
             "action_space": spaces.Discrete(100_000)}
    envs = [Proxy(env, ("reset", "step"), attrs) for env in world.envs]
    try:
        result = s.call("collect_episodes", envs, Callback(policy), Callback(spy_value), batch_size).value
    except StudentRaised as exc:
        result = exc.raised
    return {"result": result, "world": world.record(), "asked": policy.asked}


_FIELDS = ("obs", "act", "rew", "terminated", "truncated", "bootstrap")


def _bootstrap_problem(where, got, steps) -> str | None:
    """What is wrong with the bootstrap column, summarised by kind (so that each mistake reads alike)."""
    kinds = {}
    for g, st, nxt in zip(got, steps, steps[1:] + [None]):
        cut = st["trunc"] and not st["term"]
        expected = _code(st["s_next"]) if cut else 0.0
        if abs(g - expected) <= 1e-6 + 1e-6 * abs(expected):
            continue
        end = "both terminated and truncated" if st["term"] and st["trunc"] else (
            "terminated" if st["term"] else "truncated" if st["trunc"] else "not an episode end")
        if abs(g) <= 1e-6:
            kind = f"{end}: no bootstrap (0), expected V(s_T+1) = V{_show_obs(st['s_next'])}"
        elif abs(g - _code(st["s_next"])) <= 1e-6 * abs(g) and not cut:
            kind = (f"{end}: a bootstrap V(s_T+1) where the episode {'terminated' if st['term'] else 'goes on'}"
                    + (" (terminated wins: nothing follows a terminal state)" if st["term"] and st["trunc"] else
                       " (nothing follows a terminal state)" if st["term"] else ""))
        elif abs(g - _code(st["s"])) <= 1e-6 * abs(g):
            kind = f"{end}: V of the observation acted on at that step (s_T), not of the one it returned (s_T+1)"
        elif nxt is not None and st["term"] + st["trunc"] and abs(g - _code(nxt["s"])) <= 1e-6 * abs(g):
            kind = (f"{end}: V of the first observation of the next episode (what env.reset() returned), not of "
                    "the final observation of the episode that was cut")
        else:
            kind = f"{end}: expected {expected:g}, got {g:g}"
        kinds.setdefault(kind, 0)
        kinds[kind] += 1
    if not kinds:
        return None
    return f"{where}: bootstrap wrong at " + "; ".join(f"{n} step{'s' if n > 1 else ''} {k}" for k, n in kinds.items())


def collect_problem(name, batch_size, trace) -> str | None:
    """What is wrong with one spy record (None when every step and every column is right)."""
    result, world, asked = trace["result"], trace["world"], trace["asked"]
    if isinstance(result, Raised):
        return f"{name}: raised {result}"
    # the rules of the batch, from what the environments saw
    total = sum(len(ep["steps"]) for eps in world for ep in eps)
    for k, eps in enumerate(world):
        if not eps or not eps[0]["steps"]:
            return f"{name}: env {k} played no step: every environment plays at least one whole episode"
        last = eps[-1]["steps"][-1]
        if not (last["term"] or last["trunc"]):
            return (f"{name}: env {k} was left in the middle of an episode (after {len(eps[-1]['steps'])} of its steps): "
                    "the batch holds whole episodes only; an env stops only when its episode ends")
        for e, ep in enumerate(eps[1:], start=1):
            if ep["start"] >= batch_size:
                return (f"{name}: env {k} started episode {e} when the batch already held {ep['start']} steps "
                        f"(batch_size={batch_size}): count the steps of all envs together, and start no new "
                        "episode once they reach batch_size")
            if not ep["steps"]:
                return f"{name}: env {k} was reset and then not played"
        if last["clock"] < batch_size:
            return (f"{name}: env {k} stopped after its episode {len(eps) - 1} although the batch held only "
                    f"{last['clock']} steps then (batch_size={batch_size}): reset it and play on")
    # each action chosen for the observation the env was in
    for k, eps in enumerate(world):
        for e, ep in enumerate(eps):
            for t, st in enumerate(ep["steps"]):
                a = st["a"]
                if a not in asked:
                    return f"{name}: env {k} received action {a!r}, which the policy never returned"
                if asked[a][:3] != st["s"][:3]:
                    hint = (" the observation env.reset() returns must become the env's current one"
                            if t == 0 and e > 0 else " after every step the env's current observation must become "
                            "the one the step returned")
                    return (f"{name}: env {k}'s action at step {t} of episode {e} was chosen for "
                            f"{_show_obs(asked[a])}, but the env was in {_show_obs(st['s'])}:{hint}")
    # the result, env by env
    if not isinstance(result, (tuple, list)) or len(result) != 6:
        return (f"{name}: return Episodes(obs, act, rew, terminated, truncated, bootstrap) (six arrays); "
                f"got {_show(result)}")
    cols = {}
    for field, value in zip(_FIELDS, result):
        if type(value).__module__.startswith("torch"):
            value = value.detach().numpy()
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
            return f"{name}: Episodes.{field} should be a numpy array, got {_show(value)}"
        cols[field] = value
    steps = [st for eps in world for ep in eps for st in ep["steps"]]
    N = len(steps)
    shapes = {"obs": (N, 4), "act": (N,), "rew": (N,), "terminated": (N,), "truncated": (N,), "bootstrap": (N,)}
    for field, shape in shapes.items():
        if cols[field].shape != shape:
            return (f"{name}: Episodes.{field} has shape {cols[field].shape}; the environments played {N} steps "
                    f"in all, so expected {shape}" + (" (a column (N, 1) or an (N, N) broadcast?)"
                                                      if cols[field].shape in ((N, 1), (N, N)) else ""))
    obs = cols["obs"].astype(np.float64)
    acted = np.array([st["s"] for st in steps])
    if not np.array_equal(obs, acted):
        i = int(np.flatnonzero(np.any(obs != acted, axis=1))[0])
        returned = np.array([st["s_next"] for st in steps])
        if np.array_equal(obs, returned):
            return (f"{name}: Episodes.obs holds the observations the steps returned (s_t+1); store the one each "
                    "action was chosen in (s_t)")
        if len({tuple(r) for r in obs[:, :3].tolist()}) < len({tuple(r) for r in acted[:, :3].tolist()}):
            return (f"{name}: Episodes.obs repeats rows: row {i} is {_show_obs(obs[i])}, expected "
                    f"{_show_obs(acted[i])} (stored a view of obs[i] that later steps overwrote? store a copy)")
        return (f"{name}: Episodes.obs row {i} is {_show_obs(obs[i])}, expected {_show_obs(acted[i])}: the steps "
                "of env 0 first, then env 1's, ..., each env's in the order played")
    if cols["act"].dtype.kind not in "iu" or cols["act"].tolist() != [st["a"] for st in steps]:
        return (f"{name}: Episodes.act should be the integer actions the environments received, env by env; "
                f"got {_show(cols['act'])}")
    problem = diff(cols["rew"].astype(np.float64), np.array([st["r"] for st in steps]), 1e-6, 1e-6,
                   f"{name}: Episodes.rew")
    if problem:
        return problem
    for field, key in (("terminated", "term"), ("truncated", "trunc")):
        got = cols[field]
        want = np.array([st[key] for st in steps])
        if got.dtype.kind not in "biu" or not np.array_equal(got.astype(np.float64), want.astype(np.float64)):
            mixed = np.array([st["term"] or st["trunc"] for st in steps])
            if got.dtype.kind in "biu" and np.array_equal(got.astype(bool), mixed):
                return (f"{name}: Episodes.{field} is True at every episode end: record terminated and truncated "
                        "as each step returned them (a time limit is not a terminal state, nor the reverse)")
            return f"{name}: Episodes.{field} should be the flags the steps returned, got {_show(got)}"
    return _bootstrap_problem(f"{name}: Episodes.bootstrap", cols["bootstrap"].astype(np.float64).tolist(), steps)


def _collect_probe(name, endings, rewards, batch_size) -> Probe:
    def run(s):
        return _collect_trace(s, endings, rewards, batch_size)

    def compare(got, expected):
        return collect_problem(name, batch_size, got)

    def key(t):
        return collect_problem(name, batch_size, t) or "right"
    return Probe(name, run, compare, key=key)


def _rewards(rng, endings):
    return [[rng.normal(size=length).round(3).tolist() for length, _ in eps] for eps in endings]


def probes_collect_episodes() -> list[Probe]:
    rng = np.random.default_rng(407)
    T, C, B = "terminated", "truncated", "both"
    cases = [
        ("the hand-worked batch (a truncation, then a reset; an end both terminated and truncated)",
         [[(2, C), (3, T), (4, T)], [(3, B), (2, T)]], 5),
        ("one env, one episode that terminates, batch_size=1", [[(3, T)]], 1),
        ("one env, one episode cut by the time limit, batch_size=1", [[(4, C)]], 1),
        ("one env, episodes of one step (terminated, truncated, both, truncated)", [[(1, T), (1, C), (1, B), (1, C)]], 4),
        ("one env, a truncated episode, then more episodes", [[(3, C), (2, C), (4, T), (2, C)]], 9),
        ("two envs, batch_size=1 (each still plays one whole episode)", [[(2, C), (9, T)], [(3, T), (9, T)]], 1),
        ("three envs, the batch full exactly at an episode end", [[(2, T), (2, C), (5, T)], [(4, C), (1, T)],
                                                                   [(3, B), (6, C)]], 9),
    ]
    for i in range(8):
        n = int(rng.integers(1, 5))
        batch_size = int(rng.integers(5, 61))
        endings = [[(int(rng.integers(1, 13)), str(rng.choice([T, T, C, C, B]))) for _ in range(batch_size + 2)]
                   for _ in range(n)]
        cases.append((f"random batch #{i} ({n} env{'s' if n > 1 else ''}, batch_size={batch_size})", endings, batch_size))
    return [_collect_probe(f"collect_episodes on {label}", endings, _rewards(rng, endings), batch_size)
            for label, endings, batch_size in cases]


# ---------------------------------------------------------------- gaussian_log_prob


def probes_gaussian_log_prob() -> list[Probe]:
    rng = np.random.default_rng(405)
    cases = [("the hand-worked example", np.array([[1.0, 0.0]]), np.array([math.log(2.0), math.log(0.5)]),
              np.array([[3.0, 0.5]])),
             ("a standard normal at 0, 1, -2", np.zeros((3, 1)), np.zeros(1), np.array([[0.0], [1.0], [-2.0]]))]
    for i in range(12):
        N = int(rng.integers(2, 40))
        D = 1 if i in (0, 1) else int(rng.integers(2, 6))
        if N == D:
            N += 1
        per_sample = i % 3 == 2  # log_std of shape (N, D): a state-dependent std
        log_std = rng.random((N, D) if per_sample else (D,)) * 2.5 - 2.0
        if i % 4 == 3:
            log_std = log_std + 1.5  # wide policies (std > 1)
        mean = rng.normal(size=(N, D))
        actions = mean + rng.normal(size=(N, D)) * np.exp(log_std) * 1.5
        cases.append((f"random batch #{i}, N={N}, d={D}, log_std of shape {log_std.shape}"
                      + (", std > 1" if i % 4 == 3 else ""), mean.round(4), log_std.round(4), actions.round(4)))
    probes = []
    for label, mean, log_std, actions in cases:
        label = f"gaussian_log_prob on {label}"

        def run(s, mean=mean, log_std=log_std, actions=actions):
            args = (_t(mean, torch.float64, grad=True), _t(log_std, torch.float64, grad=True),
                    _t(actions, torch.float64))
            r = s.call("gaussian_log_prob", *args)
            return _out(r.value), _modified(r, args, ["mean", "log_std", "actions"])

        def compare(got, expected, label=label):
            if isinstance(got, Raised):
                return f"{label}: raised {got}"
            problem = _compare_out(label, got[0], expected[0], 1e-6, 1e-6, tensor=True)
            if problem and got[0].get("nonfinite") is not None and got[0]["nonfinite"].any():
                problem += (" (log_std is negative for narrow policies: taking its log or dividing by it "
                            "means it was used as the standard deviation; sigma = exp(log_std))")
            return problem or _changed_problem(label, got[1], expected[1])
        probes.append(Probe(label, run, compare, atol=1e-6, rtol=1e-6))
    grad_cases = [(np.array([0.5, -1.0]), np.array([-1.0, 0.7]), np.array([1.5, -0.2])),
                  (np.array([0.0]), np.array([0.3]), np.array([2.0])),
                  (np.array([1.0, 2.0, -1.0]), np.array([-2.0, 0.0, 1.2]), np.array([0.9, 2.5, 3.0]))]
    for mean, log_std, actions in grad_cases:
        label = (f"the gradients of gaussian_log_prob(mean={mean.tolist()}, log_std={log_std.tolist()}, "
                 f"actions={actions.tolist()}) with respect to mean and log_std (one state: vectors (d,))")
        probes.append(_single_state_probe(
            label, "gaussian_log_prob",
            lambda mean=mean, log_std=log_std, actions=actions: (
                _t(mean, torch.float64, grad=True), _t(log_std, torch.float64, grad=True), _t(actions, torch.float64)),
            [0, 1]))
    return probes


# ---------------------------------------------------------------- gae


def probes_gae() -> list[Probe]:
    rng = np.random.default_rng(406)
    f, t = False, True
    a = np.array
    cases = [
        ("a batch of one step that terminates", a([1.0]), a([0.5]), a([2.0]), a([t]), a([f]), 0.9, 0.95),
        ("a batch of one step that is truncated (bootstrap!)", a([1.0]), a([0.5]), a([2.0]), a([f]), a([t]), 0.9, 0.95),
        ("a batch of one step, the episode continues", a([1.0]), a([0.5]), a([2.0]), a([f]), a([f]), 0.9, 0.95),
        ("the hand-worked batch", np.ones(4), np.ones(4), a([1.0, 9.0, 1.0, 2.0]), a([f, t, f, f]), a([f, f, f, t]),
         0.5, 0.5),
        ("terminated and truncated both set (terminated wins: no bootstrap)", a([1.0, 1.0]), a([0.5, 0.5]),
         a([3.0, 3.0]), a([f, t]), a([f, t]), 0.9, 0.9),
        ("lambda = 0 gives the TD errors", a([1.0, 0.0, 2.0, 1.0]), a([0.2, 0.4, 0.1, 0.3]), a([0.4, 1.0, 0.3, 0.7]),
         a([f, t, f, f]), a([f, f, f, t]), 0.9, 0.0),
        ("lambda = 1", a([1.0, 0.0, 2.0, 1.0, 0.5]), a([0.2, 0.4, 0.1, 0.3, 0.6]), a([0.4, 1.0, 0.3, 0.6, 0.8]),
         a([f, t, f, f, f]), a([f, f, f, t, f]), 0.95, 1.0),
        ("a truncation in the middle, then a termination", a([1.0, 2.0, 1.0, 2.0, 1.0, 2.0]),
         a([1.0, 2.0, 3.0, 1.0, 2.0, 3.0]), a([2.0, 3.0, 9.0, 2.0, 3.0, -4.0]), a([f, f, f, f, f, t]),
         a([f, f, t, f, f, f]), 0.9, 0.8),
        ("integer rewards given as a list", [1, 0, 2, 1], a([0.25, 0.5, 0.75, 0.5]), a([0.5, 0.75, 3.0, 0.25]),
         a([f, f, t, f]), a([f, f, f, f]), 0.9, 0.7),
    ]
    for i in range(14):
        T = int(rng.integers(4, 80))
        ends = rng.random(T) < 0.15
        trunc = ends & (rng.random(T) < 0.4)
        term = ends & ~trunc
        j, k = rng.choice(T - 1, size=2, replace=False)  # both kinds of episode end inside the batch
        term[j], trunc[j] = True, False
        term[k], trunc[k] = False, True
        values = rng.normal(size=T).round(3)
        next_values = np.append(values[1:], rng.normal()).round(3)
        idx = np.flatnonzero(term | trunc)
        next_values[idx] = rng.normal(size=len(idx)).round(3)  # V(final state) of the ended episode
        cases.append((f"random batch #{i} ({int(term.sum())} terminated, {int(trunc.sum())} truncated)",
                      rng.normal(size=T).round(3), values, next_values, term, trunc,
                      float(rng.uniform(0.8, 1.0)), float(rng.uniform(0.5, 0.99))))
    names = ["rewards", "values", "next_values", "terminated", "truncated", "gamma", "lam"]
    return [_numpy_probe(f"gae ({label}, T={len(r)}, gamma={gamma:.2f}, lambda={lam:.2f})", "gae",
                         (r, v, nv, te, tr, gamma, lam), names, atol=1e-8, rtol=1e-8)
            for label, r, v, nv, te, tr, gamma, lam in cases]


EXERCISES = [
    Exercise("categorical_log_prob", probes_categorical_log_prob),
    Exercise("pg_loss", probes_pg_loss),
    Exercise("discount_cumsum", probes_discount_cumsum),
    Exercise("reward_to_go", probes_reward_to_go),
    Exercise("collect_episodes", probes_collect_episodes),
    Exercise("gaussian_log_prob", probes_gaussian_log_prob),
    Exercise("gae", probes_gae),
]

# ---------------------------------------------------------------- known mistakes (each written once)

_GAE_MASK = "not_terminal = 0.0 if terminated[t] else 1.0"
_RTG_LOOP = ("        if dones[t]:\n            running = 0.0\n        running = rewards[t] + gamma * running\n"
             "        out[t] = running\n")

_CE_STEP = ("            played[i].append((obs[i].copy(), a, r, terminated, truncated, next_obs))\n"
            "            total += 1\n"
            "            if terminated or truncated:\n"
            "                if total >= batch_size:\n"
            "                    playing[i] = False                         # this env is done for this batch\n"
            "                else:\n"
            "                    next_obs, _ = envs[i].reset()\n")
_CE_MISTAKES = [
    Mistake("collect_episodes", "a bootstrap at every episode end: terminated and truncated treated alike (nothing "
            "follows a terminal state)", "tr & ~te", "tr | te"),
    Mistake("collect_episodes", "no bootstrap where the time limit cut the episode (a truncation treated as the end of "
            "the task)", "bootstrap = np.where(tr & ~te, v_next, 0.0)", "bootstrap = np.zeros(len(v_next))"),
    Mistake("collect_episodes", "the bootstrap at terminations instead of truncations (the flags swapped)",
            "tr & ~te", "te & ~tr"),
    Mistake("collect_episodes", "a bootstrap where the step was terminated and truncated at once (terminated wins)",
            "tr & ~te", "tr"),
    Mistake("collect_episodes", "terminated recorded as terminated or truncated (the two kinds of end merged)",
            "a, r, terminated, truncated, next_obs))", "a, r, terminated or truncated, truncated, next_obs))"),
    Mistake("collect_episodes", "the bootstrap is V of the first observation of the next episode (recorded after "
            "env.reset()), not of the final observation of the episode that was cut", _CE_STEP,
            "            total += 1\n"
            "            if terminated or truncated:\n"
            "                if total >= batch_size:\n"
            "                    playing[i] = False\n"
            "                else:\n"
            "                    next_obs, _ = envs[i].reset()\n"
            "            played[i].append((obs[i].copy(), a, r, terminated, truncated, next_obs))\n"),
    Mistake("collect_episodes", "the bootstrap is V of the observation acted on at the last step (s_T), not of the "
            "one it returned (s_T+1)", "v_next = value(s_next)", "v_next = value(s)"),
    Mistake("collect_episodes", "the observation the step returned is stored instead of the one the action was chosen in",
            "played[i].append((obs[i].copy(),", "played[i].append((next_obs.copy(),"),
    Mistake("collect_episodes", "obs[i] stored without a copy: a view of the row that later steps overwrite",
            "played[i].append((obs[i].copy(),", "played[i].append((obs[i],"),
    Mistake("collect_episodes", "the observation env.reset() returns is dropped: the new episode's first action is "
            "chosen for the last episode's final observation", "next_obs, _ = envs[i].reset()", "envs[i].reset()"),
    Mistake("collect_episodes", "the current observation is not advanced after a step",
            "            obs[i] = next_obs\n", ""),
    Mistake("collect_episodes", "the batch stops in the middle of episodes as soon as it holds batch_size steps",
            "            total += 1\n", "            total += 1\n            if total >= batch_size:\n"
                                        "                playing[:] = False\n                break\n"),
    Mistake("collect_episodes", "each env plays until its own steps reach batch_size (a batch n times too long)",
            "if total >= batch_size:", "if len(played[i]) >= batch_size:"),
    Mistake("collect_episodes", "each env stops after its first episode, even when the batch is not full",
            "if total >= batch_size:", "if True:"),
]

MISTAKES = [
    Mistake("categorical_log_prob", "probabilities instead of log-probabilities",
            "torch.log_softmax(logits, dim=-1)", "torch.softmax(logits, dim=-1)"),
    Mistake("categorical_log_prob", "raw logits gathered without normalising (log_softmax missing)",
            "log_probs = torch.log_softmax(logits, dim=-1)", "log_probs = logits"),
    Mistake("categorical_log_prob", "softmax taken over the batch axis (dim=0) instead of the action axis",
            "torch.log_softmax(logits, dim=-1)", "torch.log_softmax(logits, dim=0)"),
    Mistake("categorical_log_prob", "log(softmax(logits)) underflows to -inf for large logits (use torch.log_softmax)",
            "torch.log_softmax(logits, dim=-1)", "torch.log(torch.softmax(logits, dim=-1))"),
    Mistake("categorical_log_prob", "the result is detached: no gradient reaches the logits",
            ".squeeze(-1)", ".squeeze(-1).detach()"),
    Mistake("categorical_log_prob", "log_probs[:, actions] picks every action for every row (an (N, N) matrix) "
            "instead of one entry per row (use gather)",
            "log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)", "log_probs[:, actions]"),
    Mistake("pg_loss", "a sign error: gradient descent on this loss must *increase* logp * weights, so the loss is "
            "minus their mean", "-(logp * weights.detach()).mean()", "(logp * weights.detach()).mean()"),
    Mistake("pg_loss", "sum instead of mean over the batch", ".mean()", ".sum()"),
    Mistake("pg_loss", "the weights are not detached: gradient flows into them (they are targets)",
            "weights.detach()", "weights"),
    Mistake("pg_loss", "a broadcasting bug: (N,) times (N, 1) gives an (N, N) matrix whose mean mixes all pairs",
            "weights.detach()", "weights.detach().reshape(-1, 1)"),
    Mistake("pg_loss", "returns a Python number (.item()): no gradient can flow", ".mean()", ".mean().item()"),
    Mistake("pg_loss", "logp is detached: the loss carries no gradient to the policy", "return -(logp *", "return -(logp.detach() *"),
    Mistake("discount_cumsum", "discounting starts at gamma^1 instead of gamma^0 (off by one)",
            "y[t] = running", "y[t] = gamma * running"),
    Mistake("discount_cumsum", "the sum runs forwards, over the past (y[t] sums x[0..t]) instead of the future",
            "for t in reversed(range(len(x))):", "for t in range(len(x)):"),
    Mistake("discount_cumsum", "no discounting (gamma ignored)",
            "running = x[t] + gamma * running", "running = x[t] + running"),
    Mistake("discount_cumsum", "the output is reversed", "return y", "return y[::-1]"),
    Mistake("discount_cumsum", "y[t] is the sum from t+1 on (the current x[t] is left out)",
            "y[t] = running", "y[t] = running - x[t]"),
    Mistake("discount_cumsum", "integer input gives an integer output (the sums are truncated): convert x to floats",
            "x = np.asarray(x, dtype=np.float64)", "x = np.asarray(x)"),
    Mistake("discount_cumsum", "the sums are written into the caller's array x (y = x, not a new array)",
            "y = np.zeros_like(x)", "y = x"),
    Mistake("reward_to_go", "no reset of the reward-to-go at episode ends (rewards of the next episode leak into this one)",
            "if dones[t]:", "if False:"),
    Mistake("reward_to_go", "the reset happens one step late (a step with dones[t]=True still adds the next episode's return)",
            _RTG_LOOP, "        running = rewards[t] + gamma * running\n        out[t] = running\n"
                       "        if dones[t]:\n            running = 0.0\n"),
    Mistake("reward_to_go", "the episode boundary is shifted by one step (the reset tests dones[t - 1])",
            "if dones[t]:", "if dones[t - 1]:"),
    Mistake("reward_to_go", "the whole episode's return at every step instead of the reward-to-go",
            "    return out", "    starts = np.flatnonzero(np.r_[True, np.asarray(dones, dtype=bool)[:-1]])\n"
                             "    return np.repeat(out[starts], np.diff(np.r_[starts, len(out)]))"),
    Mistake("reward_to_go", "no discounting (gamma ignored)",
            "running = rewards[t] + gamma * running", "running = rewards[t] + running"),
    Mistake("reward_to_go", "integer rewards give an integer output (truncated): convert the rewards to floats",
            "rewards = np.asarray(rewards, dtype=np.float64)", "rewards = np.asarray(rewards)"),
    Mistake("reward_to_go", "the result is written into the caller's rewards array (out = rewards)",
            "out = np.zeros_like(rewards)", "out = rewards"),
    *_CE_MISTAKES,
    Mistake("gaussian_log_prob", "log_std used as the standard deviation (sigma = exp(log_std))",
            "z = (actions - mean) / torch.exp(log_std)", "z = (actions - mean) / log_std"),
    Mistake("gaussian_log_prob", "log_std used as the standard deviation, in both terms (sigma = exp(log_std))",
            "z = (actions - mean) / torch.exp(log_std)\n    return (-0.5 * z ** 2 - log_std",
            "z = (actions - mean) / log_std\n    return (-0.5 * z ** 2 - torch.log(log_std)"),
    Mistake("gaussian_log_prob", "the constant -0.5 * log(2 pi) is missing", " - 0.5 * math.log(2 * math.pi)", ""),
    Mistake("gaussian_log_prob", "the log-std term is missing (-log sigma)", " - log_std", ""),
    Mistake("gaussian_log_prob", "the squared error is divided by sigma instead of sigma^2",
            "/ torch.exp(log_std)", "/ torch.exp(0.5 * log_std)"),
    Mistake("gaussian_log_prob", "the factor 1/2 of the quadratic term is missing", "-0.5 * z ** 2", "-z ** 2"),
    Mistake("gaussian_log_prob", "mean over the action dimensions instead of the sum", ".sum(-1)", ".mean(-1)"),
    Mistake("gaussian_log_prob", "the density (probability) instead of the log-density",
            "return (-0.5 * z ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)",
            "return torch.exp((-0.5 * z ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1))"),
    Mistake("gaussian_log_prob", "no sum over the action dimensions (the result is (N, d), not (N,))", ".sum(-1)", ""),
    Mistake("gaussian_log_prob", "summed over the batch too (one number instead of one per sample)", ".sum(-1)", ".sum()"),
    Mistake("gae", "bootstrapping through a terminal state (gamma * V(s') must be dropped when terminated)",
            _GAE_MASK, "not_terminal = 1.0"),
    Mistake("gae", "a truncated step treated as terminal (a time limit is not the end of the task: bootstrap from "
            "next_values)", _GAE_MASK, "not_terminal = 0.0 if terminated[t] or truncated[t] else 1.0"),
    Mistake("gae", "the recursion is not reset at episode ends (advantages leak across episode boundaries)",
            "if terminated[t] or truncated[t]:", "if False:"),
    Mistake("gae", "the recursion is reset only at terminations (advantages leak across truncations)",
            "if terminated[t] or truncated[t]:", "if terminated[t]:"),
    Mistake("gae", "bootstrapping through a terminal state and no reset at episode ends",
            _GAE_MASK + "\n        delta = rewards[t] + gamma * next_values[t] * not_terminal - values[t]\n"
            "        if terminated[t] or truncated[t]:",
            "not_terminal = 1.0\n        delta = rewards[t] + gamma * next_values[t] * not_terminal - values[t]\n"
            "        if False:"),
    Mistake("gae", "lambda missing from the recursion (A_t = delta_t + gamma * A_t+1)",
            "gamma * lam * running", "gamma * running"),
    Mistake("gae", "gamma missing from the recursion (A_t = delta_t + lambda * A_t+1)",
            "gamma * lam * running", "lam * running"),
    Mistake("gae", "next_values ignored: V(s_t+1) read from values[t + 1], which belongs to the next episode at a "
            "boundary", "gamma * next_values[t]",
            "gamma * (values[t + 1] if t + 1 < len(values) else next_values[t])"),
    Mistake("gae", "the returns (advantages + values) instead of the advantages",
            "return advantages", "return advantages + np.asarray(values)"),
    Mistake("gae", "integer rewards give an integer advantage array (truncated): convert the rewards to floats",
            "rewards = np.asarray(rewards, dtype=np.float64)", "rewards = np.asarray(rewards)"),
    Mistake("gae", "the advantages are written into the caller's rewards array",
            "advantages = np.zeros_like(rewards)", "advantages = rewards"),
]

# ---------------------------------------------------------------- equivalent mutants
# (exercise, original line, mutated line or "*", why no check can kill it)

EQUIVALENT_MUTANTS = [
    ('collect_episodes', 'bootstrap = np.where(tr & ~te, v_next, 0.0).astype(np.float32)',
     'bootstrap = np.where(tr * ~te, v_next, 0.0).astype(np.float32)',
     'tr and te are bool arrays (made so on the line before): the product of two bool arrays is their logical and'),
    ('collect_episodes', 'bootstrap = np.where(tr & ~te, v_next, 0.0).astype(np.float32)',
     'bootstrap = np.where(tr // ~te, v_next, 0.0).astype(np.float32)',
     'tr and te are bool arrays: numpy gives True // True = 1 and x // False = 0 (with a divide-by-zero warning), '
     'which is their logical and'),
    ('categorical_log_prob', 'log_probs = torch.log_softmax(logits, dim=-1)',
     'log_probs = torch.log_softmax(logits, dim=+1)',
     "the contract's inputs are batches (N, A): axis 1 is the last axis"),
    ('categorical_log_prob', 'return log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)',
     'return log_probs.gather(+1, actions.long().unsqueeze(-1)).squeeze(-1)',
     "the contract's inputs are batches (N, A): axis 1 is the last axis"),
    ('categorical_log_prob', 'return log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)',
     'return log_probs.gather(-1, actions.long().unsqueeze(+1)).squeeze(-1)',
     'actions are (N,): unsqueeze(1) is unsqueeze(-1)'),
    ('categorical_log_prob', 'return log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)',
     'return log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(+1)',
     'the gathered result is (N, 1): axis 1 is the last axis'),
    ('gaussian_log_prob', 'return (-0.5 * z ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)',
     'return (-0.5 * z ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(+1)',
     "the contract's inputs are batches (N, d): axis 1 is the last axis (a single state (d,) is outside the contract: its gradient probes accept a raise)"),
    ('categorical_log_prob', 'log_probs = torch.log_softmax(logits, dim=-1)',
     'log_probs = torch.log_softmax(logits, dim=1)',
     "the contract's inputs are batches (N, A): axis 1 is the last axis"),
    ('categorical_log_prob', 'return log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)',
     'return log_probs.gather(1, actions.long().unsqueeze(-1)).squeeze(-1)',
     "the contract's inputs are batches (N, A): axis 1 is the last axis"),
    ('categorical_log_prob', 'return log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)',
     'return log_probs.gather(-1, actions.long().unsqueeze(1)).squeeze(-1)',
     'actions are (N,): unsqueeze(1) is unsqueeze(-1)'),
    ('categorical_log_prob', 'return log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)',
     'return log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(1)',
     'the gathered result is (N, 1): axis 1 is the last axis'),
    ('gaussian_log_prob', 'return (-0.5 * z ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)',
     'return (-0.5 * z ** 2 - log_std - 0.5 * math.log(2 * math.pi)).sum(1)',
     "the contract's inputs are batches (N, d): axis 1 is the last axis (a single state (d,) is outside the contract: its gradient probes accept a raise)"),
]
